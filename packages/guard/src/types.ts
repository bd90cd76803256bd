import type {
  AccessTokenClaims,
  InsufficientRoleError,
  InvalidTokenError,
  SessionRevokedError,
  StoreUnavailableError,
  TokenExpiredError,
} from '@tessera/core';

/** Who made the request: what adapters put on `req.tessera`. */
export interface Principal {
  userId: string;
  sessionId: string;
  roles: readonly string[];
  /** The verified access-token claims (jwt mode); `null` in opaque mode. */
  claims: AccessTokenClaims | null;
}

/** Why a request was refused. */
export type AuthError = InvalidTokenError | TokenExpiredError | SessionRevokedError | StoreUnavailableError;

export type AuthResult = { ok: true; principal: Principal } | { ok: false; error: AuthError };

/** Errors the adapters answer with: an {@link AuthError} or a missing role. */
export type GuardError = AuthError | InsufficientRoleError;
