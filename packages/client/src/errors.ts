/**
 * The auth service's stable error codes (`@tessera/core`'s `ErrorCode`, docs/errors.md), kept
 * here so the browser client needs no server-side package; a test checks they agree.
 */
export const ERROR_CODES = [
  'invalid_request',
  'invalid_credentials',
  'session_exists',
  'rate_limited',
  'invalid_token',
  'token_expired',
  'session_expired',
  'session_revoked',
  'refresh_token_reused',
  'access_token_active',
  'not_found',
  'user_exists',
  'unauthorized',
  'csrf',
  'insufficient_role',
  'store_unavailable',
  'method_not_allowed',
  'payload_too_large',
  'unsupported_media_type',
  'internal_error',
] as const;

/** A code the auth service answers with. */
export type ErrorCode = (typeof ERROR_CODES)[number];

/** What a {@link TesseraClientError} can carry: a server code, or the client's own two. */
export type ClientErrorCode = ErrorCode | 'network_error' | 'http_error';

const isErrorCode = (value: unknown): value is ErrorCode =>
  typeof value === 'string' && (ERROR_CODES as readonly string[]).includes(value);

/** A problem+json answer from the auth service, or a network failure (`code: 'network_error'`). */
export class TesseraClientError extends Error {
  constructor(
    readonly status: number,
    readonly code: ClientErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'TesseraClientError';
  }
}

export async function errorFromResponse(response: Response): Promise<TesseraClientError> {
  let code: ClientErrorCode = 'http_error';
  let detail = `HTTP ${response.status}`;
  try {
    const body = (await response.json()) as { code?: unknown; detail?: unknown };
    if (isErrorCode(body.code)) code = body.code;
    if (typeof body.detail === 'string') detail = body.detail;
  } catch {
    // not a problem+json body; keep the status
  }
  return new TesseraClientError(response.status, code, detail);
}
