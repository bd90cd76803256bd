import type {
  AccessTokenClaims,
  CsrfError,
  InsufficientRoleError,
  InvalidTokenError,
  SessionExpiredError,
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
export type AuthError =
  | InvalidTokenError
  | TokenExpiredError
  | SessionExpiredError
  | SessionRevokedError
  | StoreUnavailableError;

export type AuthResult = { ok: true; principal: Principal } | { ok: false; error: AuthError };

/** Errors the adapters answer with: an {@link AuthError} or a missing role. */
export type GuardError = AuthError | InsufficientRoleError | CsrfError;

/** An {@link AuthResult}, or a pass granted only because fail-open is on (counted apart). */
export type Decision = AuthResult | { ok: true; principal: Principal; failOpen: true };

/** Header bags the adapters hand over: Node's `IncomingHttpHeaders` or a WHATWG `Headers`. */
export type HeaderSource = Headers | Record<string, string | string[] | undefined>;

/** State of the revocation feed, for health endpoints and tests. */
export interface FeedStatus {
  /** Connected, checked, and heard from within `TESSERA_FEED_MAX_LAG`. */
  current: boolean;
  /** Last stream id applied. */
  lastId: string;
  /** ms since the last successful read. */
  lagMs: number;
  /** Reloads because entries may have been lost. */
  reloads: number;
}
