import type { RevocationEntry } from '@tessera/core';

/**
 * What a guard knows about revocations: revoked session ids and, per user, a cutoff that
 * refuses every token issued strictly before a second. Each fact is kept until its `until`
 * plus the clock tolerance, after which no access token it concerns can still verify.
 */
export class RevocationSet {
  private readonly sessions = new Map<string, number>();
  private readonly users = new Map<string, { beforeSec: number; until: number }>();
  /** Revoked signing keys (`tessera keys revoke`): kid → keep until. */
  private readonly keys = new Map<string, number>();

  /** `onKeyRevoked`: called for each key entry (the guard refreshes its JWKS on it). */
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
    if (sessionUntil !== undefined && sessionUntil > now) return true;
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
    for (const [sessionId, until] of this.sessions) if (until <= now) this.sessions.delete(sessionId);
    for (const [userId, cutoff] of this.users) if (cutoff.until <= now) this.users.delete(userId);
    for (const [kid, until] of this.keys) if (until <= now) this.keys.delete(kid);
  }

  clear(): void {
    this.sessions.clear();
    this.users.clear();
    this.keys.clear();
  }

  private keepSession(sessionId: string, keepUntil: number): void {
    const current = this.sessions.get(sessionId);
    if (current === undefined || current < keepUntil) this.sessions.set(sessionId, keepUntil);
  }
}
