import { type TesseraError, toProblem } from '@tessera/core';

/** An HTTP answer for a refused request, framework-neutral. */
export interface ProblemResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/**
 * 401 answers carry `WWW-Authenticate: Bearer error="invalid_token"` (RFC 6750 §3.1),
 * 503 answers `Retry-After`; every body is problem+json (RFC 9457).
 */
export function toProblemResponse(error: TesseraError): ProblemResponse {
  const headers: Record<string, string> = { 'content-type': 'application/problem+json' };
  if (error.status === 401) headers['www-authenticate'] = 'Bearer error="invalid_token"';
  if (error.status === 503) {
    const seconds = 'retryAfterSeconds' in error ? Number(error.retryAfterSeconds) : 1;
    headers['retry-after'] = String(Number.isFinite(seconds) && seconds > 0 ? Math.ceil(seconds) : 1);
  }
  return { status: error.status, headers, body: JSON.stringify(toProblem(error)) };
}
