import type { ConcurrencyPolicy, RevocationEntry, SessionRecord } from '../sessions/types.ts';
import type { FollowRevocationsOptions, RevocationFollower } from './revocations/follower.ts';

/**
 * The store speaks in domain terms; every method is atomic for one user (one Lua script on
 * one hash slot in Redis). Time is passed in (`now`, ms) so all instances and tests share
 * one clock source: the caller's. Unreachable store → `StoreUnavailableError`;
 * "no such session" → `null`/`false`.
 */
export interface SessionStore {
  /**
   * Creates a session, applying the concurrency policy and max-sessions limit atomically,
   * and prunes the user's expired index entries.
   */
  createSession(command: CreateSessionCommand): Promise<CreateSessionResult>;
  /** The live session, or `null` when missing. Expired sessions are returned with their `expiresAt` in the past (tombstone) or `null`. */
  getSession(sessionId: string): Promise<StoredSession | null>;
  /**
   * Slides the idle timeout: `lastSeenAt = now`, `expiresAt = min(now + idleMs, absoluteExpiresAt)`;
   * skipped (no write) when the last touch is less than `minIntervalMs` ago. `null` when the
   * session is missing or expired.
   */
  touchSession(
    sessionId: string,
    now: number,
    idleMs: number,
    minIntervalMs: number,
  ): Promise<SessionRecord | null>;
  /** Refresh-token rotation with reuse detection (design notes §3). */
  rotateRefresh(command: RotateRefreshCommand): Promise<RotateRefreshResult>;
  /** Records the `exp` (ms) of a newly issued access token for the session (strict policy, revocation `until`). */
  setAccessExpiry(sessionId: string, accessExpiresAt: number, now: number): Promise<boolean>;
  /** Announces then deletes one session. Idempotent. `false` when there was no such session. */
  revokeSession(sessionId: string, now: number): Promise<boolean>;
  /**
   * Announces then deletes every session of a user (one revocation entry). Returns what it
   * revoked: the sessions the entry covers, and how many of them were live.
   */
  revokeUserSessions(userId: string, now: number): Promise<RevokedSessions>;
  /**
   * Announces a revoked signing key on the revocation feed (`k=k` entry): every guard refuses
   * the tokens it signed, cached or not, until `until` (ms) — the longest such a token can live.
   */
  announceKeyRevocation(kid: string, until: number, now: number): Promise<string>;
  /** The user's live sessions, oldest first; prunes expired index entries. */
  listUserSessions(userId: string, now: number): Promise<SessionRecord[]>;
  /** Sliding-window counter for rate limits, shared by every instance using the store. */
  hitRateLimit(key: string, windowMs: number, limit: number, now: number): Promise<RateLimitResult>;
  /**
   * Takes back one allowed hit (its `hitId`), e.g. a login attempt that turned out to be correct,
   * so a window can count only failures while still reserving a slot atomically before the work.
   */
  cancelRateLimitHit(key: string, hitId: string): Promise<void>;
  /**
   * Several windows hit at once (same `windowMs` and `now`), answered as `hitRateLimit` would
   * answer each, in order; one round trip on one Redis (login counts three windows per attempt).
   * Optional: without it, callers call `hitRateLimit` per window.
   */
  hitRateLimits?(
    windows: ReadonlyArray<{ key: string; limit: number }>,
    windowMs: number,
    now: number,
  ): Promise<RateLimitResult[]>;
  /** `cancelRateLimitHit` for several hits at once. Optional, as `hitRateLimits`. */
  cancelRateLimitHits?(hits: ReadonlyArray<{ key: string; hitId: string }>): Promise<void>;
  /** Revocations newer than `afterId` (exclusive; `'0'` for all retained). */
  readRevocations(afterId: string, now: number): Promise<RevocationEntry[]>;
  /**
   * Follows the revocation log: every entry from its start (or `options.from`), then each new
   * one as it is appended, reporting loss (trim past the position, restart, failover).
   * Call `start()` on the result.
   */
  followRevocations(options: FollowRevocationsOptions): RevocationFollower;
  /** Throws `StoreUnavailableError` unless the store answers. */
  ping(): Promise<void>;
  close(): Promise<void>;
}

/**
 * What a guard needs from the store, and nothing that could create, change or revoke a
 * session: follow the revocation log, look a session up, and the throttled touch.
 */
export interface SessionReader
  extends Pick<SessionStore, 'getSession' | 'touchSession' | 'followRevocations'> {
  close(): Promise<void>;
}

/** What a revoke-all revoked. */
export interface RevokedSessions {
  /** How many of them were live (not expired) when revoked. */
  count: number;
  /** Every session id the revocation entry covers (the ones that still existed). */
  sessionIds: string[];
}

/** The session plus the hash of its current secret (refresh or opaque session token). */
export interface StoredSession extends SessionRecord {
  secretHash: string;
}

export interface CreateSessionCommand {
  session: SessionRecord;
  /** `hashSecret()` of the refresh token (jwt mode) or session token (opaque mode). */
  secretHash: string;
  concurrency: ConcurrencyPolicy;
  force: boolean;
  /** 0 = unlimited. With `allow`, the oldest sessions are revoked to stay within it. */
  maxSessions: number;
  now: number;
}

export type CreateSessionResult =
  | { ok: true; revokedSessionIds: string[] }
  | { ok: false; reason: 'session_exists' };

export interface RotateRefreshCommand {
  sessionId: string;
  /** Hash of the presented refresh token's secret. */
  presentedHash: string;
  /** Hash of the new refresh token's secret. */
  nextHash: string;
  /** The new refresh token sealed under the presented secret (`sealSuccessor`). */
  sealedSuccessor: string;
  now: number;
  graceMs: number;
  idleMs: number;
  /** `strict`: refuse while `accessExpiresAt > now`. */
  strict: boolean;
  /** `exp` (ms) of the access token that will be issued with this refresh. */
  accessExpiresAt: number;
}

export type RotateRefreshResult =
  /** Presented token was current: it is now the predecessor, `nextHash` is current. */
  | { kind: 'rotated'; session: SessionRecord }
  /** Presented token is the predecessor, within grace: answer with the stored successor. */
  | { kind: 'grace'; session: SessionRecord; sealedSuccessor: string }
  /** A used token after grace or an older generation: the session was revoked. */
  | { kind: 'reused' }
  /** Nothing recorded matches, or no such session. Nothing was changed. */
  | { kind: 'invalid' }
  /** The session exists but its idle or absolute timeout has passed. */
  | { kind: 'expired' }
  /** Strict policy and the latest access token is still valid. */
  | { kind: 'access_token_active' };

export interface RateLimitResult {
  allowed: boolean;
  /** Hits inside the window, including this one. */
  count: number;
  /** When refused: ms until the oldest hit leaves the window. */
  retryAfterMs: number;
  /** When allowed: names the recorded hit, for `cancelRateLimitHit`. */
  hitId?: string;
}
