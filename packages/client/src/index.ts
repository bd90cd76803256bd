export { createTesseraClient, type TesseraClient, type TesseraClientOptions } from './client.ts';
export { type ClientErrorCode, type ErrorCode, TesseraClientError } from './errors.ts';
export type { ClientSession, TokenResponseBody } from './types.ts';
