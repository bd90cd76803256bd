import type { AccessTokenClaims } from '@tessera/core';
import type {
  InsufficientRoleError,
  InvalidTokenError,
  SessionRevokedError,
  StoreUnavailableError,
  TokenExpiredError,
} from '@tessera/core/internal';

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

/** The answer that lets a request through, frozen and shared by every request of a credential. */
export type Allowed = { readonly ok: true; readonly principal: Principal };

/** A verified credential, as a verifier hands it to the revocation check. */
export interface Subject {
  sessionId: string;
  userId: string;
  /** Issued (jwt: `iat`) or created (opaque) at, in seconds: what a revoke-all's cutoff is compared with. */
  issuedSec: number;
  /** After this (ms) the revocation set alone cannot vouch (opaque: the session's expiry). */
  expiresAt?: number;
  /** Tokens issued before a feed loss are suspect: the store must vouch (jwt). */
  suspectable?: boolean;
  allowed: Allowed;
}

/**
 * One token mode's verification (`jwt/`, `opaque/`): its cache, its cold path, and what it
 * does when the revocation set cannot vouch.
 */
export interface Verifier<S extends Subject = Subject> {
  /** Counts cache hits and misses (jwt; opaque with a feed). */
  readonly countsCache: boolean;
  /** The cached verification of the credential whose hash is `key`, or `undefined`. Synchronous. */
  cached(key: string, now: number): S | undefined;
  /** Cold path: verify the credential (`fresh` = the store itself vouched for it). */
  verify(token: string, key: string, now: number): Promise<{ subject: S; fresh: boolean } | AuthError>;
  /**
   * The revocation set cannot vouch for a cached or verified subject: ask the store.
   * Absent: verify the credential again (the cold path asks the store).
   */
  confirm?(subject: S, now: number): Promise<Decision>;
  /**
   * Lets the subject through with side effects (opaque: caches a fresh lookup, slides the
   * idle timeout). Absent (jwt): the answer is `subject.allowed`.
   */
  admit?(subject: S, key: string, now: number, fresh: boolean): Allowed;
}
