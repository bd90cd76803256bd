import { type TesseraError, toProblem, wwwAuthenticateFor } from '@tessera/core';

/** An HTTP answer for a refused request, framework-neutral. */
export interface ProblemResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/**
 * 401 answers carry `WWW-Authenticate: Bearer error="invalid_token"`, or `Bearer` alone when
 * no credential was sent (RFC 6750 §3.1; `wwwAuthenticateFor` in core, shared with the auth service),
 * 503 answers `Retry-After`; every body is problem+json (RFC 9457).
 */
export function toProblemResponse(error: TesseraError): ProblemResponse {
  const headers: Record<string, string> = { 'content-type': 'application/problem+json' };
  const challenge = wwwAuthenticateFor(error);
  if (challenge !== undefined) headers['www-authenticate'] = challenge;
  if (error.status === 503) {
    const seconds = 'retryAfterSeconds' in error ? Number(error.retryAfterSeconds) : 1;
    headers['retry-after'] = String(Number.isFinite(seconds) && seconds > 0 ? Math.ceil(seconds) : 1);
  }
  return { status: error.status, headers, body: JSON.stringify(toProblem(error)) };
}
