import {
  hashSecret,
  InvalidTokenError,
  isTesseraError,
  parseOpaqueToken,
  SessionExpiredError,
  SessionRevokedError,
  StoreUnavailableError,
  safeEqual,
} from '@tessera/core/internal';
import { ExpiringLru } from '../lib/lru.ts';
import type { GuardStats } from '../metrics.ts';
import type { GuardLogger, SessionLookup } from '../options.ts';
import type { Allowed, Subject, Verifier } from '../types.ts';

/** A session lookup as cached (feed mode): enough to decide again without Redis. */
export interface CachedSession extends Subject {
  /** The session's expiry (ms): past it, the cached lookup cannot vouch. */
  expiresAt: number;
}

export interface OpaqueVerifierOptions {
  lookup: SessionLookup;
  stats: GuardStats;
  cacheSize: number;
  /** Feed mode: how long a lookup is reused (ms); `undefined` = no cache (request mode). */
  cacheMs: number | undefined;
  /** Sliding idle timeout of sessions (ms). */
  idleMs: number;
  /** Where a failed or refused touch is reported. */
  logger: GuardLogger;
}

/**
 * Opaque mode: one store lookup (the slot comes from the token), the secret's hash compared
 * in constant time, roles from the session. A store that cannot be reached is always 503:
 * without the session there is nothing to let through, even with fail-open. With the feed
 * the answer is cached (keyed by the token's hash, so by its secret too) until `now + cacheMs`
 * or the session's expiry, whichever is first, and re-decided against the revocation set on
 * every request. A cached lookup the set cannot vouch for is looked up again.
 */
export class OpaqueVerifier implements Verifier<CachedSession> {
  readonly countsCache: boolean;
  private readonly sessions: ExpiringLru<CachedSession>;
  /** Session id → when this guard last touched it. */
  private readonly lastTouch = new ExpiringLru<number>(100_000);
  /** At most one touch per session per this many ms (idle / 20). */
  private readonly minIntervalMs: number;

  constructor(private readonly options: OpaqueVerifierOptions) {
    this.countsCache = options.cacheMs !== undefined;
    this.sessions = new ExpiringLru(Math.floor(options.cacheSize));
    this.minIntervalMs = Math.max(1, Math.floor(options.idleMs / 20));
  }

  cached(key: string, now: number): CachedSession | undefined {
    return this.options.cacheMs === undefined ? undefined : this.sessions.get(key, now);
  }

  /** Drops every cached lookup (the feed may have lost a revocation). */
  clear(): void {
    this.sessions.clear();
  }

  async verify(token: string, _key: string, now: number) {
    const parsed = parseOpaqueToken(token, 'session');
    if (parsed === null) return new InvalidTokenError('the session token is not valid');
    this.options.stats.storeChecks += 1;
    let session: Awaited<ReturnType<SessionLookup['getSession']>>;
    try {
      session = await this.options.lookup.getSession(parsed.sessionId);
    } catch {
      return new StoreUnavailableError('the session store is unavailable');
    }
    // The same answers as the auth service (docs/errors.md): gone → session_revoked, wrong
    // secret → invalid_token, past its idle/absolute timeout → session_expired.
    if (session === null) return new SessionRevokedError('the session has ended');
    if (!safeEqual(hashSecret(parsed.secret), session.secretHash)) {
      return new InvalidTokenError('the session token is not valid');
    }
    if (session.expiresAt <= now) return new SessionExpiredError('the session has expired');
    const roles = Object.freeze([...session.roles]);
    const principal = Object.freeze({ userId: session.userId, sessionId: session.id, roles, claims: null });
    const subject: CachedSession = {
      sessionId: session.id,
      userId: session.userId,
      issuedSec: Math.floor(session.createdAt / 1000),
      expiresAt: session.expiresAt,
      allowed: Object.freeze({ ok: true as const, principal }),
    };
    return { subject, fresh: true };
  }

  admit(subject: CachedSession, key: string, now: number, fresh: boolean): Allowed {
    const { cacheMs } = this.options;
    if (fresh && cacheMs !== undefined) {
      this.sessions.set(key, subject, Math.min(subject.expiresAt, now + cacheMs));
    }
    this.touchThrottled(subject.sessionId, now);
    return subject.allowed;
  }

  /**
   * Slides the session's idle expiry at most once per `idle/20` per session, in the background
   * (the store skips the write too when another guard touched it within that interval; on
   * Redis the touch is queued for the auth service to apply). A touch that fails is counted
   * (`touchFailures`) and logged, never silently dropped: the session may idle out early.
   */
  private touchThrottled(sessionId: string, now: number): void {
    if (this.lastTouch.get(sessionId, now) !== undefined) return;
    this.lastTouch.set(sessionId, now, now + this.minIntervalMs);
    const { lookup, stats, logger } = this.options;
    lookup.touchSession(sessionId, now, this.options.idleMs, this.minIntervalMs).catch((error: unknown) => {
      this.lastTouch.delete(sessionId);
      stats.touchFailures += 1;
      logger.warn(
        { event: 'tessera_guard_touch_failed', sessionId, reason: reasonOf(error) },
        'session touch failed; the session may idle out early',
      );
    });
  }
}

/** The store's own message (never Redis error text: that stays in the cause). */
function reasonOf(error: unknown): string {
  return isTesseraError(error) ? error.message : 'the session store failed';
}
