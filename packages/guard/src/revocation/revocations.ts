import type { Clock, RevocationEntry, RevocationFollower, SessionReader } from '@tessera/core';
import type { FeedStatus, Subject } from '../types.ts';

/** Clock tolerance (ms) added to every revocation's keep time; matches token verification. */
const TOLERANCE_MS = 10_000;

/** What the revocation check says about a verified credential. */
export type RevocationVerdict = 'revoked' | 'key_revoked' | 'clear' | 'unknown';

export interface RevocationsOptions {
  clock: Clock;
  /** Past this without news from the feed, the set cannot vouch (ms). */
  maxLagMs: number;
  /** Keep every fact at least this long after it is read (ms), whatever its `until`. */
  minRetentionMs: number;
  connectTimeoutMs: number;
  /** The feed may have lost entries: drop anything derived from it. */
  onLoss: () => void;
  /** A signing key was revoked (`k` entry): reload the JWKS so the key leaves that cache too. */
  onKeyRevoked?: (kid: string) => void;
}

/**
 * The revocation check of the guard's pipeline: a {@link RevocationSet} kept current by
 * following the store's revocation log (core's `followRevocations`). Without a feed
 * (`TESSERA_REVOCATION_CHECK=request`) every verdict is `unknown`: the store decides.
 */
export class Revocations {
  private readonly set: RevocationSet;
  private follower: RevocationFollower | undefined;
  private lastPruneAt = 0;

  constructor(private readonly options: RevocationsOptions) {
    this.set = new RevocationSet(TOLERANCE_MS, options.onKeyRevoked);
  }

  /** Reads the log from its start, then follows it in the background. */
  async follow(reader: SessionReader): Promise<void> {
    const { clock, minRetentionMs } = this.options;
    const follower = reader.followRevocations({
      onEntry: (entry) => this.set.apply(entry, clock.now() + minRetentionMs),
      onLoss: this.options.onLoss,
      onRead: (now) => {
        if (now - this.lastPruneAt < 1000) return;
        this.set.prune(now);
        this.lastPruneAt = now;
      },
      clock,
      connectTimeoutMs: this.options.connectTimeoutMs,
    });
    try {
      await follower.start();
    } catch (error) {
      await follower.close();
      throw error;
    }
    this.follower = follower;
  }

  /**
   * First the signing key (`key_revoked`: a revoked kid refuses its tokens, cached or not),
   * then two map lookups, then the feed's health: `revoked`; `clear` when the set may vouch
   * (the feed is current, the subject is not suspect nor past its `expiresAt`); else `unknown`.
   */
  check(subject: Subject, now: number): RevocationVerdict {
    if (subject.kid !== undefined && this.set.isKeyRevoked(subject.kid, now)) return 'key_revoked';
    const follower = this.follower;
    if (follower === undefined) return 'unknown';
    if (this.set.isRevoked(subject.sessionId, subject.userId, subject.issuedSec, now)) return 'revoked';
    if (subject.expiresAt !== undefined && subject.expiresAt <= now) return 'unknown';
    const suspectBefore = follower.suspectBefore;
    if (subject.suspectable && suspectBefore > 0 && subject.issuedSec <= Math.floor(suspectBefore / 1000)) {
      return 'unknown';
    }
    return follower.isCurrent(now, this.options.maxLagMs) ? 'clear' : 'unknown';
  }

  status(now: number): FeedStatus | undefined {
    const follower = this.follower;
    if (follower === undefined) return undefined;
    return {
      current: follower.isCurrent(now, this.options.maxLagMs),
      lastId: follower.lastId,
      lagMs: now - follower.lastReadAt,
      reloads: follower.losses,
    };
  }

  async close(): Promise<void> {
    await this.follower?.close();
  }
}

/**
 * What a guard knows about revocations: revoked session ids, per user a cutoff that refuses
 * every token issued strictly before a second, and revoked signing keys. Each fact is kept until its `until`
 * plus the clock tolerance, after which no access token it concerns can still verify.
 */
export class RevocationSet {
  /**
   * Revoked session id → keep time, in whole seconds after {@link base} rounded up (a small
   * integer V8 stores inline, where a ms timestamp would be a 16-byte heap number per id; a
   * revoked session refused up to a second longer is still refused rightly).
   */
  private readonly sessions = new Map<string, number>();
  /** Origin of the session keep times (s). */
  private readonly base = Math.floor(Date.now() / 1000);
  private readonly users = new Map<string, { beforeSec: number; until: number }>();
  /** Revoked signing keys (`tessera keys revoke`): kid → keep until. */
  private readonly keys = new Map<string, number>();

  /** `onKeyRevoked`: called for each key entry (the guard reloads its JWKS on it). */
  constructor(
    private readonly toleranceMs: number,
    private readonly onKeyRevoked?: (kid: string) => void,
  ) {}

  /** Number of revoked session ids and user cutoffs held (for metrics and memory reports). */
  get size(): { sessions: number; users: number } {
    return { sessions: this.sessions.size, users: this.users.size };
  }

  /**
   * Records one entry, kept until `until` + tolerance, and at least until `minKeepUntil` (ms):
   * opaque-mode entries carry `until ≈ now` (no access token outlives them), but a guard that
   * caches session lookups must remember them as long as a cached lookup can live.
   */
  apply(entry: RevocationEntry, minKeepUntil = 0): void {
    const keepUntil = Math.max(entry.until + this.toleranceMs, minKeepUntil);
    if (entry.kind === 'key') {
      this.keys.set(entry.kid, Math.max(keepUntil, this.keys.get(entry.kid) ?? 0));
      this.onKeyRevoked?.(entry.kid);
      return;
    }
    if (entry.kind === 'session') {
      this.keepSession(entry.sessionId, keepUntil);
      return;
    }
    for (const sessionId of entry.sessionIds) this.keepSession(sessionId, keepUntil);
    const beforeSec = Math.floor(entry.before / 1000);
    const current = this.users.get(entry.userId);
    this.users.set(entry.userId, {
      beforeSec: Math.max(beforeSec, current?.beforeSec ?? 0),
      until: Math.max(keepUntil, current?.until ?? 0),
    });
  }

  /**
   * `true` when the token (session `sessionId` of `userId`, issued at `iatSec` seconds) is
   * revoked. Two map lookups; facts past their keep time are ignored (and pruned later).
   */
  isRevoked(sessionId: string, userId: string, iatSec: number, now: number): boolean {
    const sessionUntil = this.sessions.get(sessionId);
    if (sessionUntil !== undefined && this.toMs(sessionUntil) > now) return true;
    const cutoff = this.users.get(userId);
    return cutoff !== undefined && cutoff.until > now && iatSec < cutoff.beforeSec;
  }

  /** `true` when the key that signed a token was revoked: checked on every decision, cached or not. */
  isKeyRevoked(kid: string, now: number): boolean {
    const until = this.keys.get(kid);
    return until !== undefined && until > now;
  }

  /** Drops every fact whose keep time has passed. */
  prune(now: number): void {
    for (const [sessionId, until] of this.sessions) {
      if (this.toMs(until) <= now) this.sessions.delete(sessionId);
    }
    for (const [userId, cutoff] of this.users) if (cutoff.until <= now) this.users.delete(userId);
    for (const [kid, until] of this.keys) if (until <= now) this.keys.delete(kid);
  }

  clear(): void {
    this.sessions.clear();
    this.users.clear();
    this.keys.clear();
  }

  private keepSession(sessionId: string, keepUntil: number): void {
    const until = Math.ceil(keepUntil / 1000) - this.base;
    const current = this.sessions.get(sessionId);
    if (current === undefined || current < until) this.sessions.set(sessionId, until);
  }

  private toMs(until: number): number {
    return (until + this.base) * 1000;
  }
}
