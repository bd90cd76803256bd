import {
  type ErrorCode,
  type ProblemDetails,
  RateLimitedError,
  StoreUnavailableError,
  type TesseraError,
  toProblem,
} from './errors.ts';

/**
 * Codes that mean "this credential is not (or no longer) good": their 401 carries
 * `WWW-Authenticate: Bearer error="invalid_token"` (RFC 6750 §3.1).
 */
export const TOKEN_CODES: ReadonlySet<ErrorCode> = new Set<ErrorCode>([
  'invalid_token',
  'token_expired',
  'session_expired',
  'session_revoked',
  'refresh_token_reused',
]);

/** An HTTP answer for an error, framework-neutral: status, headers, RFC 9457 body. */
export interface ErrorResponse {
  status: number;
  /** Lower-case names: `content-type`, and where due `www-authenticate`, `retry-after`. */
  headers: Record<string, string>;
  body: ProblemDetails;
}

/**
 * The one place a {@link TesseraError} becomes an HTTP answer (auth service and guard):
 * `application/problem+json`; a token failure's `WWW-Authenticate: Bearer error="invalid_token"`,
 * a missing credential's `WWW-Authenticate: Bearer` (`unauthorized`); `Retry-After` (whole
 * seconds, at least 1) for `rate_limited` and `store_unavailable`.
 *
 * @example
 * ```ts
 * const { status, headers, body } = toErrorResponse(new SessionRevokedError('the session has been revoked'));
 * // 401, { 'content-type': 'application/problem+json', 'www-authenticate': 'Bearer error="invalid_token"' }
 * ```
 * @see https://www.rfc-editor.org/rfc/rfc9457
 * @see https://www.rfc-editor.org/rfc/rfc6750#section-3
 */
export function toErrorResponse(error: TesseraError): ErrorResponse {
  const headers: Record<string, string> = { 'content-type': 'application/problem+json' };
  if (TOKEN_CODES.has(error.code)) headers['www-authenticate'] = 'Bearer error="invalid_token"';
  else if (error.code === 'unauthorized') headers['www-authenticate'] = 'Bearer';
  if (error instanceof RateLimitedError || error instanceof StoreUnavailableError) {
    const seconds = error.retryAfterSeconds;
    headers['retry-after'] = String(Number.isFinite(seconds) && seconds > 0 ? Math.ceil(seconds) : 1);
  }
  return { status: error.status, headers, body: toProblem(error) };
}
