import {
  hashSecret,
  InvalidTokenError,
  parseOpaqueToken,
  StoreUnavailableError,
  safeEqual,
  TokenExpiredError,
} from '@tessera/core';
import type { ExpiringLru } from './lib/lru.ts';
import type { GuardStats } from './metrics.ts';
import type { SessionLookup } from './options.ts';
import type { AuthResult } from './principal.ts';

export interface TouchPolicy {
  now: number;
  idleMs: number;
  /** At most one touch per session per this many ms (idle / 20). */
  minIntervalMs: number;
  /** Session id → when this guard last touched it. */
  lastTouch: ExpiringLru<number>;
  stats: GuardStats;
}

/**
 * Opaque mode: one store lookup per request (the slot comes from the token), the secret's
 * hash compared in constant time, roles from the session. Sliding expiry is extended at most
 * once per `idle/20` per session, in the background. A store that cannot be reached is
 * always 503: without the session there is nothing to let through, even with fail-open.
 */
export async function authenticateOpaque(
  token: string,
  store: SessionLookup,
  touch: TouchPolicy,
): Promise<AuthResult> {
  const parsed = parseOpaqueToken(token, 'session');
  if (parsed === null) return { ok: false, error: new InvalidTokenError('the session token is not valid') };
  touch.stats.storeChecks += 1;
  let session: Awaited<ReturnType<SessionLookup['getSession']>>;
  try {
    session = await store.getSession(parsed.sessionId);
  } catch {
    return { ok: false, error: new StoreUnavailableError('the session store is unavailable') };
  }
  if (session === null || !safeEqual(hashSecret(parsed.secret), session.secretHash)) {
    return { ok: false, error: new InvalidTokenError('the session token is not valid') };
  }
  if (session.expiresAt <= touch.now) {
    return { ok: false, error: new TokenExpiredError('the session has expired') };
  }
  touchThrottled(parsed.sessionId, store, touch);
  return {
    ok: true,
    principal: { userId: session.userId, sessionId: session.id, roles: session.roles, claims: null },
  };
}

function touchThrottled(sessionId: string, store: SessionLookup, touch: TouchPolicy): void {
  const last = touch.lastTouch.get(sessionId, touch.now);
  if (last !== undefined && touch.now - last < touch.minIntervalMs) return;
  touch.lastTouch.set(sessionId, touch.now, touch.now + touch.minIntervalMs);
  store.touchSession(sessionId, touch.now, touch.idleMs, touch.minIntervalMs).catch(() => {
    touch.lastTouch.delete(sessionId);
  });
}
