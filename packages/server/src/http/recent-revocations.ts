import type { Clock } from '@tessera/core';
import type { ServerMetrics } from '../metrics/server-metrics.ts';

/** How long this instance remembers its own revocations: far longer than the feed takes to deliver them. */
const KEEP_MS = 30_000;

/**
 * Sessions this instance revoked in the last seconds. The revocation feed delivers them to
 * the forward-auth guard within milliseconds, but a client may ask `/v1/authorize` sooner
 * than that right after logging out; this closes the gap for revocations made here.
 */
export interface RecentRevocations {
  add(sessionIds: Iterable<string>): void;
  has(sessionId: string): boolean;
}

export function createRecentRevocations(clock: Clock): RecentRevocations {
  const until = new Map<string, number>();
  return {
    add(sessionIds) {
      const now = clock.now();
      for (const [id, end] of until) {
        if (end > now) break; // insertion order = expiry order
        until.delete(id);
      }
      for (const id of sessionIds) {
        until.delete(id);
        until.set(id, now + KEEP_MS);
      }
    },
    has(sessionId) {
      const end = until.get(sessionId);
      return end !== undefined && end > clock.now();
    },
  };
}

/** What a route revoked, for {@link recordRevocation}. */
export interface Revoked {
  kind: 'session' | 'user' | 'token';
  /** Sessions the revocation covers (remembered for `/v1/authorize`). */
  sessionIds: readonly string[];
  /** How many live sessions ended (the active-sessions gauge). */
  live: number;
}

/** The bookkeeping every revoking route does, in one place: remember, count, adjust the gauge. */
export function recordRevocation(
  ctx: { revoked: RecentRevocations; metrics: ServerMetrics },
  revoked: Revoked,
): void {
  ctx.revoked.add(revoked.sessionIds);
  ctx.metrics.revocations.inc({ kind: revoked.kind });
  if (revoked.live > 0) ctx.metrics.activeSessions.dec(revoked.live);
}
