import type { Clock, RevocationFollower, SessionReader } from '@tessera/core';
import type { FeedStatus, Subject } from '../types.ts';
import { RevocationSet } from './revocation-set.ts';

/** Clock tolerance (ms) added to every revocation's keep time; matches token verification. */
const TOLERANCE_MS = 10_000;

/** What the revocation check says about a verified credential. */
export type RevocationVerdict = 'revoked' | 'clear' | 'unknown';

export interface RevocationsOptions {
  clock: Clock;
  /** Past this without news from the feed, the set cannot vouch (ms). */
  maxLagMs: number;
  /** Keep every fact at least this long after it is read (ms), whatever its `until`. */
  minRetentionMs: number;
  connectTimeoutMs: number;
  /** The feed may have lost entries: drop anything derived from it. */
  onLoss: () => void;
}

/**
 * The revocation check of the guard's pipeline: a {@link RevocationSet} kept current by
 * following the store's revocation log (core's `followRevocations`). Without a feed
 * (`TESSERA_REVOCATION_CHECK=request`) every verdict is `unknown`: the store decides.
 */
export class Revocations {
  private readonly set = new RevocationSet(TOLERANCE_MS);
  private follower: RevocationFollower | undefined;
  private lastPruneAt = 0;

  constructor(private readonly options: RevocationsOptions) {}

  /** `true` once a feed is followed (feed mode, started). */
  get followed(): boolean {
    return this.follower !== undefined;
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
   * Two map lookups, then the feed's health: `revoked`; `clear` when the set may vouch (the
   * feed is current, the subject is not suspect nor past its `expiresAt`); else `unknown`.
   */
  check(subject: Subject, now: number): RevocationVerdict {
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
