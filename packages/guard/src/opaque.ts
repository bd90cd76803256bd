import {
  hashSecret,
  InvalidTokenError,
  parseOpaqueToken,
  SessionExpiredError,
  SessionRevokedError,
  StoreUnavailableError,
  safeEqual,
} from '@tessera/core';
import type { RevocationSet } from './feed/revocation-set.ts';
import type { ExpiringLru } from './lib/lru.ts';
import type { GuardStats } from './metrics.ts';
import type { SessionLookup } from './options.ts';
import type { AuthResult, Principal } from './types.ts';

export interface TouchPolicy {
  idleMs: number;
  /** At most one touch per session per this many ms (idle / 20). */
  minIntervalMs: number;
  /** Session id → when this guard last touched it. */
  lastTouch: ExpiringLru<number>;
}

/** A session lookup as cached (feed mode): enough to decide again without Redis. */
export interface CachedSession {
  sessionId: string;
  userId: string;
  /** Creation time in seconds: what a revoke-all's `before` cutoff is compared with. */
  createdSec: number;
  expiresAt: number;
  allowed: { readonly ok: true; readonly principal: Principal };
}

export interface OpaqueContext {
  store: SessionLookup;
  touch: TouchPolicy;
  stats: GuardStats;
  now: number;
  /** Feed mode: the revocation set and where to cache lookups (until `now + cacheMs` at most). */
  cache?: { set: RevocationSet; sessions: ExpiringLru<CachedSession>; key: string; cacheMs: number };
}

const invalid = (): AuthResult => ({
  ok: false,
  error: new InvalidTokenError('the session token is not valid'),
});

/**
 * Opaque mode, from Redis: one store lookup (the slot comes from the token), the secret's
 * hash compared in constant time, roles from the session. A store that cannot be reached is
 * always 503: without the session there is nothing to let through, even with fail-open.
 * In feed mode the answer is cached (keyed by the token's hash, so by its secret too) until
 * `now + cacheMs` or the session's expiry, whichever is first.
 */
export async function lookupOpaque(token: string, context: OpaqueContext): Promise<AuthResult> {
  const parsed = parseOpaqueToken(token, 'session');
  if (parsed === null) return invalid();
  context.stats.storeChecks += 1;
  let session: Awaited<ReturnType<SessionLookup['getSession']>>;
  try {
    session = await context.store.getSession(parsed.sessionId);
  } catch {
    return { ok: false, error: new StoreUnavailableError('the session store is unavailable') };
  }
  // The same answers as the auth service (docs/errors.md): gone → session_revoked, wrong
  // secret → invalid_token, past its idle/absolute timeout → session_expired.
  if (session === null) return { ok: false, error: new SessionRevokedError('the session has ended') };
  if (!safeEqual(hashSecret(parsed.secret), session.secretHash)) return invalid();
  if (session.expiresAt <= context.now) {
    return { ok: false, error: new SessionExpiredError('the session has expired') };
  }
  const roles = Object.freeze([...session.roles]);
  const principal = Object.freeze({ userId: session.userId, sessionId: session.id, roles, claims: null });
  const entry: CachedSession = {
    sessionId: session.id,
    userId: session.userId,
    createdSec: Math.floor(session.createdAt / 1000),
    expiresAt: session.expiresAt,
    allowed: Object.freeze({ ok: true as const, principal }),
  };
  const cache = context.cache;
  if (cache !== undefined) {
    if (cache.set.isRevoked(entry.sessionId, entry.userId, entry.createdSec, context.now)) {
      return { ok: false, error: new SessionRevokedError('the session has been revoked') };
    }
    cache.sessions.set(cache.key, entry, Math.min(entry.expiresAt, context.now + cache.cacheMs));
  }
  touchThrottled(entry.sessionId, context.store, context.touch, context.now);
  return entry.allowed;
}

/**
 * Slides the session's idle expiry at most once per `idle/20` per session, in the background
 * (the store skips the write too when another guard touched it within that interval).
 */
export function touchThrottled(
  sessionId: string,
  store: SessionLookup,
  touch: TouchPolicy,
  now: number,
): void {
  if (touch.lastTouch.get(sessionId, now) !== undefined) return;
  touch.lastTouch.set(sessionId, now, now + touch.minIntervalMs);
  store.touchSession(sessionId, now, touch.idleMs, touch.minIntervalMs).catch(() => {
    touch.lastTouch.delete(sessionId);
  });
}
