export { createTesseraClient, type TesseraClient, type TesseraClientOptions } from './client.ts';
export { TesseraClientError } from './errors.ts';
export type { ClientSession, TokenResponseBody } from './types.ts';
