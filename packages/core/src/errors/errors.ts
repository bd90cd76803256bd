/**
 * One error hierarchy with stable codes (contract §3). Messages never contain a token,
 * a password, a hash or a Redis reply: they name the problem, not the credential.
 */

/** Every stable error code Tessera answers with. `docs/errors.md` lists each one. */
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

export type ErrorCode = (typeof ERROR_CODES)[number];

export abstract class TesseraError extends Error {
  abstract readonly code: ErrorCode;
  abstract readonly status: number;
  /** Short human title for problem+json. */
  abstract readonly title: string;

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

export class InvalidRequestError extends TesseraError {
  readonly code = 'invalid_request';
  readonly status = 400;
  readonly title = 'Invalid request';
}
export class InvalidCredentialsError extends TesseraError {
  readonly code = 'invalid_credentials';
  readonly status = 401;
  readonly title = 'Invalid credentials';
}
export class SessionExistsError extends TesseraError {
  readonly code = 'session_exists';
  readonly status = 409;
  readonly title = 'Session exists';
}
export class RateLimitedError extends TesseraError {
  readonly code = 'rate_limited';
  readonly status = 429;
  readonly title = 'Too many requests';
  constructor(
    message: string,
    /** Seconds until a retry can succeed. */
    readonly retryAfterSeconds: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
export class InvalidTokenError extends TesseraError {
  readonly code = 'invalid_token';
  readonly status = 401;
  readonly title = 'Invalid token';
  /**
   * `true` when the request carried no credential at all: RFC 6750 §3.1 says the
   * `WWW-Authenticate` challenge then has no `error` code (see `wwwAuthenticateFor` in problem-response.ts).
   */
  readonly credentialMissing: boolean;
  constructor(message: string, options?: { cause?: unknown; credentialMissing?: boolean }) {
    super(message, options);
    this.credentialMissing = options?.credentialMissing === true;
  }
}
export class TokenExpiredError extends TesseraError {
  readonly code = 'token_expired';
  readonly status = 401;
  readonly title = 'Token expired';
}
export class SessionExpiredError extends TesseraError {
  readonly code = 'session_expired';
  readonly status = 401;
  readonly title = 'Session expired';
}
export class SessionRevokedError extends TesseraError {
  readonly code = 'session_revoked';
  readonly status = 401;
  readonly title = 'Session revoked';
}
export class RefreshTokenReusedError extends TesseraError {
  readonly code = 'refresh_token_reused';
  readonly status = 401;
  readonly title = 'Refresh token reused';
}
export class AccessTokenActiveError extends TesseraError {
  readonly code = 'access_token_active';
  readonly status = 409;
  readonly title = 'Access token still active';
}
export class NotFoundError extends TesseraError {
  readonly code = 'not_found';
  readonly status = 404;
  readonly title = 'Not found';
}
export class UserExistsError extends TesseraError {
  readonly code = 'user_exists';
  readonly status = 409;
  readonly title = 'User exists';
}
export class UnauthorizedError extends TesseraError {
  readonly code = 'unauthorized';
  readonly status = 401;
  readonly title = 'Unauthorized';
}
export class CsrfError extends TesseraError {
  readonly code = 'csrf';
  readonly status = 403;
  readonly title = 'Cross-site request refused';
}
export class InsufficientRoleError extends TesseraError {
  readonly code = 'insufficient_role';
  readonly status = 403;
  readonly title = 'Insufficient role';
}
export class StoreUnavailableError extends TesseraError {
  readonly code = 'store_unavailable';
  readonly status = 503;
  readonly title = 'Store unavailable';
  /** Seconds a client should wait before retrying. */
  readonly retryAfterSeconds: number = 1;
}
export class MethodNotAllowedError extends TesseraError {
  readonly code = 'method_not_allowed';
  readonly status = 405;
  readonly title = 'Method not allowed';
}
export class PayloadTooLargeError extends TesseraError {
  readonly code = 'payload_too_large';
  readonly status = 413;
  readonly title = 'Payload too large';
}
export class UnsupportedMediaTypeError extends TesseraError {
  readonly code = 'unsupported_media_type';
  readonly status = 415;
  readonly title = 'Unsupported media type';
}
export class InternalError extends TesseraError {
  readonly code = 'internal_error';
  readonly status = 500;
  readonly title = 'Internal error';
}

/** Union to `switch` on `code`. */
export type AnyTesseraError =
  | InvalidRequestError
  | InvalidCredentialsError
  | SessionExistsError
  | RateLimitedError
  | InvalidTokenError
  | TokenExpiredError
  | SessionExpiredError
  | SessionRevokedError
  | RefreshTokenReusedError
  | AccessTokenActiveError
  | NotFoundError
  | UserExistsError
  | UnauthorizedError
  | CsrfError
  | InsufficientRoleError
  | StoreUnavailableError
  | MethodNotAllowedError
  | PayloadTooLargeError
  | UnsupportedMediaTypeError
  | InternalError;

export function isTesseraError(value: unknown): value is AnyTesseraError {
  return value instanceof TesseraError;
}

/** RFC 9457 problem details body for an error. */
export interface ProblemDetails {
  type: string;
  title: string;
  status: number;
  detail: string;
  code: ErrorCode;
}

export function toProblem(error: TesseraError): ProblemDetails {
  return {
    type: `https://tessera.dev/problems/${error.code}`,
    title: error.title,
    status: error.status,
    detail: error.message,
    code: error.code,
  };
}
