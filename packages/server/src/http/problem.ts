import { isTesseraError, type TesseraError, toErrorResponse } from '@tessera/core';
import {
  InternalError,
  InvalidRequestError,
  isRedisError,
  MethodNotAllowedError,
  NotFoundError,
  PayloadTooLargeError,
  StoreUnavailableError,
  UnsupportedMediaTypeError,
} from '@tessera/core/internal';
import type { FastifyReply } from 'fastify';

/**
 * Sends a TesseraError as core's `toErrorResponse` makes it (problem+json, `Retry-After` /
 * `WWW-Authenticate` where due), never cached.
 */
export function sendProblem(reply: FastifyReply, error: TesseraError): FastifyReply {
  const { status, headers, body } = toErrorResponse(error);
  reply.headers(headers);
  reply.header('cache-control', 'no-store');
  return reply.code(status).send(body);
}

interface FastifyLikeError {
  code?: string;
  statusCode?: number;
  name?: string;
}

/** Redis/network failures that escaped a store without being wrapped: still a 503, never a 500. */
function looksLikeStoreFailure(thrown: unknown, error: FastifyLikeError): boolean {
  const code = error.code ?? '';
  return (
    ['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTCONN'].includes(code) ||
    isRedisError(thrown) ||
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
  if (looksLikeStoreFailure(thrown, error)) {
    return { error: new StoreUnavailableError('The session store cannot be reached'), unexpected: true };
  }
  return { error: new InternalError('An unexpected error occurred'), unexpected: true };
}
