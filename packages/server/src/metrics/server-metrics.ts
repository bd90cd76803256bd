import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

/** Prometheus metrics of one app instance (own registry, so several apps in one process don't collide). */
export interface ServerMetrics {
  registry: Registry;
  logins: Counter<'outcome'>;
  refreshes: Counter<'outcome'>;
  reuseDetections: Counter;
  revocations: Counter<'kind'>;
  /** Sessions opened/ended through this instance (feeds the gauge when the store cannot count). */
  activeSessions: { inc(count?: number): void; dec(count?: number): void };
  requestDuration: Histogram<'method' | 'route' | 'status'>;
  storeErrors: Counter;
  /** Revocations a replica did not confirm in time (answered 503, kept in force locally). */
  replicaWaitTimeouts: Counter;
}

/**
 * Creates the metrics. `countActiveSessions` is called at scrape time when given; otherwise the
 * gauge counts sessions created minus sessions ended through this instance.
 */
export function createServerMetrics(
  countActiveSessions?: () => Promise<number>,
  touchApplierErrors?: () => number,
): ServerMetrics {
  const registry = new Registry();
  if (touchApplierErrors) {
    new Counter({
      name: 'tessera_touch_apply_errors_total',
      help: 'Rounds of applying guard touches (opaque mode) that failed: Redis unreachable or the ACL refused',
      registers: [registry],
      collect() {
        this.reset();
        this.inc(touchApplierErrors());
      },
    });
  }
  collectDefaultMetrics({ register: registry, prefix: 'tessera_' });
  let local = 0;
  new Gauge({
    name: 'tessera_active_sessions',
    help: 'Live sessions (store-wide with the in-memory store; with Redis: opened minus ended through this instance, at least 0)',
    registers: [registry],
    async collect(this: Gauge) {
      this.set(
        countActiveSessions
          ? await countActiveSessions().catch(() => Math.max(0, local))
          : Math.max(0, local),
      );
    },
  });
  const activeSessions = {
    inc: (count = 1) => {
      local += count;
    },
    dec: (count = 1) => {
      local -= count;
    },
  };
  return {
    registry,
    logins: new Counter({
      name: 'tessera_logins_total',
      help: 'Login attempts by outcome (success, invalid_credentials, rate_limited, session_exists, invalid_request, error)',
      labelNames: ['outcome'],
      registers: [registry],
    }),
    refreshes: new Counter({
      name: 'tessera_refreshes_total',
      help: 'Refresh attempts by outcome (success or the error code)',
      labelNames: ['outcome'],
      registers: [registry],
    }),
    reuseDetections: new Counter({
      name: 'tessera_refresh_reuse_detected_total',
      help: 'Used refresh tokens presented after the grace window (the session was revoked)',
      registers: [registry],
    }),
    revocations: new Counter({
      name: 'tessera_revocations_total',
      help: 'Revocations by kind (session, user, token)',
      labelNames: ['kind'],
      registers: [registry],
    }),
    activeSessions,
    requestDuration: new Histogram({
      name: 'tessera_http_request_duration_seconds',
      help: 'HTTP request latency by route',
      labelNames: ['method', 'route', 'status'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers: [registry],
    }),
    storeErrors: new Counter({
      name: 'tessera_store_errors_total',
      help: 'Requests answered 503 because the session store could not be reached',
      registers: [registry],
    }),
    replicaWaitTimeouts: new Counter({
      name: 'tessera_replica_wait_timeouts_total',
      help: 'Revocations not confirmed by a Redis replica within TESSERA_REDIS_WAIT_TIMEOUT (answered 503, kept in force locally)',
      registers: [registry],
    }),
  };
}
