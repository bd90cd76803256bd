export {
  createTesseraClient,
  type SignedOut,
  type TesseraClient,
  type TesseraClientOptions,
} from './client.ts';
export { TesseraClientError, type TesseraErrorCode } from './errors.ts';
export type { ClientSession, TokenResponseBody } from './types.ts';
