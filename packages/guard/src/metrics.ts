import type { Registry } from 'prom-client';

/** Outcome of one `authenticate` call, as counted. */
export type DecisionOutcome =
  | 'allowed'
  | 'allowed_fail_open'
  | 'invalid_token'
  | 'token_expired'
  | 'session_expired'
  | 'session_revoked'
  | 'store_unavailable';

/** Plain counters, always kept (cheap), and mirrored into prom-client when a registry is given. */
export interface GuardStats {
  decisions: Record<DecisionOutcome, number>;
  cacheHits: number;
  cacheMisses: number;
  failOpen: number;
  /** Per-request Redis lookups (request mode, opaque mode, stale feed, suspect tokens). */
  storeChecks: number;
  /** Opaque-mode touches that failed or were refused (the session may idle out early). */
  touchFailures: number;
}

/** Fresh counters, all zero. */
export function newGuardStats(): GuardStats {
  return {
    decisions: {
      allowed: 0,
      allowed_fail_open: 0,
      invalid_token: 0,
      token_expired: 0,
      session_expired: 0,
      session_revoked: 0,
      store_unavailable: 0,
    },
    cacheHits: 0,
    cacheMisses: 0,
    failOpen: 0,
    storeChecks: 0,
    touchFailures: 0,
  };
}

/**
 * Registers `tessera_guard_*` metrics in `registry`, read from `stats` at scrape time (the
 * request path only bumps plain counters). Decisions count from registration on.
 * `feedLagSeconds` is read at scrape time.
 */
export async function registerGuardMetrics(
  registry: Registry,
  stats: GuardStats,
  feedLagSeconds: () => number,
): Promise<void> {
  const prom = await import('prom-client');
  const baseline = { ...stats.decisions };
  new prom.Counter({
    name: 'tessera_guard_decisions_total',
    help: 'Guard decisions by outcome',
    labelNames: ['outcome'],
    registers: [registry],
    collect() {
      this.reset();
      for (const [outcome, count] of Object.entries(stats.decisions)) {
        const since = count - (baseline[outcome as DecisionOutcome] ?? 0);
        if (since > 0) this.inc({ outcome }, since);
      }
    },
  });
  new prom.Gauge({
    name: 'tessera_guard_feed_lag_seconds',
    help: 'Seconds since the revocation feed was last heard from (-1 without a feed)',
    registers: [registry],
    collect() {
      this.set(feedLagSeconds());
    },
  });
  new prom.Gauge({
    name: 'tessera_guard_cache_hit_ratio',
    help: 'Share of verified-token cache lookups that hit',
    registers: [registry],
    collect() {
      const total = stats.cacheHits + stats.cacheMisses;
      this.set(total === 0 ? 0 : stats.cacheHits / total);
    },
  });
  new prom.Counter({
    name: 'tessera_guard_fail_open_total',
    help: 'Requests let through because neither the feed nor Redis could be trusted',
    registers: [registry],
    collect() {
      this.reset();
      this.inc(stats.failOpen);
    },
  });
  new prom.Counter({
    name: 'tessera_guard_store_checks_total',
    help: 'Per-request session lookups in Redis',
    registers: [registry],
    collect() {
      this.reset();
      this.inc(stats.storeChecks);
    },
  });
  new prom.Counter({
    name: 'tessera_guard_touch_failures_total',
    help: 'Opaque-mode session touches that failed or were refused by Redis',
    registers: [registry],
    collect() {
      this.reset();
      this.inc(stats.touchFailures);
    },
  });
}
