import { type TesseraError, toErrorResponse } from '@tessera/core';

/** An HTTP answer for a refused request, framework-neutral (the body serialised). */
export interface ProblemResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/**
 * Core's `toErrorResponse` with the body as a string: 401 answers carry
 * `WWW-Authenticate: Bearer error="invalid_token"` (RFC 6750 §3.1), 503 answers `Retry-After`;
 * every body is problem+json (RFC 9457).
 */
export function toProblemResponse(error: TesseraError): ProblemResponse {
  const { status, headers, body } = toErrorResponse(error);
  return { status, headers, body: JSON.stringify(body) };
}
