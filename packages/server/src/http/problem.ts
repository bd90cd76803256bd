import {
  InternalError,
  InvalidRequestError,
  isTesseraError,
  MethodNotAllowedError,
  NotFoundError,
  PayloadTooLargeError,
  RateLimitedError,
  StoreUnavailableError,
  type TesseraError,
  toProblem,
  UnsupportedMediaTypeError,
  wwwAuthenticateFor,
} from '@tessera/core';
import type { FastifyReply } from 'fastify';

/** Sends a TesseraError as application/problem+json, with `Retry-After` / `WWW-Authenticate` where due. */
export function sendProblem(reply: FastifyReply, error: TesseraError): FastifyReply {
  if (error instanceof RateLimitedError || error instanceof StoreUnavailableError) {
    reply.header('retry-after', String(Math.max(1, Math.ceil(error.retryAfterSeconds))));
  }
  const challenge = wwwAuthenticateFor(error);
  if (challenge !== undefined) reply.header('www-authenticate', challenge);
  reply.header('cache-control', 'no-store');
  return reply.code(error.status).type('application/problem+json').send(toProblem(error));
}

interface FastifyLikeError {
  code?: string;
  statusCode?: number;
  name?: string;
}

/** Redis/network failures that escaped a store without being wrapped: still a 503, never a 500. */
function looksLikeStoreFailure(error: FastifyLikeError): boolean {
  const code = error.code ?? '';
  return (
    ['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTCONN'].includes(code) ||
    /Redis|MaxRetriesPerRequest|ClusterAllFailed/i.test(error.name ?? '') ||
    code.startsWith('ERR_REDIS')
  );
}

/**
 * Turns anything thrown by a handler or by Fastify itself into a stable TesseraError.
 * Messages of unknown errors are never passed on (they may carry Redis text or input).
 */
export function toTesseraError(thrown: unknown): { error: TesseraError; unexpected: boolean } {
  if (isTesseraError(thrown)) return { error: thrown, unexpected: false };
  const error = (thrown ?? {}) as FastifyLikeError;
  switch (error.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return { error: new PayloadTooLargeError('The request body is larger than 16 KiB'), unexpected: false };
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return {
        error: new UnsupportedMediaTypeError('Send application/json (or a form for introspect and revoke)'),
        unexpected: false,
      };
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return { error: new InvalidRequestError('The JSON body is empty'), unexpected: false };
    case 'FST_ERR_BAD_URL':
    case 'FST_ERR_ASYNC_CONSTRAINT':
      // Fastify's own message repeats the URL: never echo input.
      return { error: new InvalidRequestError('The request URL is malformed'), unexpected: false };
  }
  if (error.statusCode === 413)
    return { error: new PayloadTooLargeError('The request body is too large'), unexpected: false };
  if (error.statusCode === 415)
    return { error: new UnsupportedMediaTypeError('Unsupported content type'), unexpected: false };
  if (error.statusCode === 404) return { error: new NotFoundError('No such resource'), unexpected: false };
  if (error.statusCode === 405)
    return { error: new MethodNotAllowedError('Method not allowed'), unexpected: false };
  if (error.statusCode !== undefined && error.statusCode >= 400 && error.statusCode < 500) {
    return {
      error: new InvalidRequestError('The request is malformed (check the JSON body)'),
      unexpected: false,
    };
  }
  if (looksLikeStoreFailure(error)) {
    return { error: new StoreUnavailableError('The session store cannot be reached'), unexpected: true };
  }
  return { error: new InternalError('An unexpected error occurred'), unexpected: true };
}
