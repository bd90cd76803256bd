import type { Clock } from '@tessera/core';
import type { ServerMetrics } from '../metrics/server-metrics.ts';

/** How long this instance remembers its own revocations: far longer than the feed takes to deliver them. */
const KEEP_MS = 30_000;

/**
 * Sessions this instance revoked in the last seconds. The revocation feed delivers them to
 * the forward-auth guard within milliseconds, but a client may ask `/v1/authorize` sooner
 * than that right after logging out; this closes the gap for revocations made here.
 * Revocations that no replica confirmed in time (`hold`) are kept longer: as long as an
 * access token they concern can live, since a failover may still lose them in Redis.
 */
export interface RecentRevocations {
  add(sessionIds: Iterable<string>): void;
  /** Keeps refusing these sessions for `holdMs` (an unconfirmed revocation). */
  hold(sessionIds: Iterable<string>): void;
  has(sessionId: string): boolean;
}

/** Forgets expired entries from the front of a map whose insertion order is expiry order. */
function prune(until: Map<string, number>, now: number): void {
  for (const [id, end] of until) {
    if (end > now) break;
    until.delete(id);
  }
}

export function createRecentRevocations(clock: Clock, holdMs = KEEP_MS): RecentRevocations {
  const recent = new Map<string, number>();
  const held = new Map<string, number>();
  const put = (map: Map<string, number>, ids: Iterable<string>, keepMs: number) => {
    const now = clock.now();
    prune(map, now);
    for (const id of ids) {
      map.delete(id);
      map.set(id, now + keepMs);
    }
  };
  const live = (map: Map<string, number>, id: string) => {
    const end = map.get(id);
    return end !== undefined && end > clock.now();
  };
  return {
    add: (sessionIds) => put(recent, sessionIds, KEEP_MS),
    hold: (sessionIds) => put(held, sessionIds, Math.max(holdMs, KEEP_MS)),
    has: (sessionId) => live(recent, sessionId) || live(held, sessionId),
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
