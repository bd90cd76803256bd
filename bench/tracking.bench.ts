// Opaque mode: does Redis client-side caching (RESP3 CLIENT TRACKING, node-redis 5
// `clientSideCache`) remove the lookup round trip without delaying revocation? Measured
// against a private Redis, next to what the guard does instead (a lookup cache invalidated
// by the revocation stream):
// - per-lookup cost of one session lookup (HGETALL of a real session hash, as the store
//   does): ioredis plain, node-redis RESP3 plain, node-redis RESP3 + client-side cache, and
//   the guard's feed-invalidated cache (a whole `authenticate`, hash and revocation set included);
// - invalidation delay: time from a write by another client (DEL, or HSET of a field) until a
//   cached read sees it, and how many cached reads issued *after* the write was acknowledged
//   still returned the old value; for the guard, from `revokeSession` (announce + delete, one
//   script) until the cached token is refused.
import { createGuard } from '@tessera/guard';
import { startRedis as startBenchRedis } from '@tessera/testkit';
import { openSessionFixture } from '@tessera/testkit/fixtures';
import { Redis } from 'ioredis';
import { createClient } from 'redis';

const LOOKUPS = Number(process.env.BENCH_TRACKING_LOOKUPS ?? 20_000);
const TRIALS = Number(process.env.BENCH_TRACKING_TRIALS ?? 100);

const round = (x: number, digits = 2) => Math.round(x * 10 ** digits) / 10 ** digits;
const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

function percentile(sorted: number[], p: number): number {
  const index = Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1);
  return round(sorted[Math.max(0, index)] ?? 0, 3);
}

export interface LookupCost {
  name: string;
  /** Mean latency of one sequential lookup, µs. */
  latencyUs: number;
  /** Client process CPU (user + system) per lookup, µs. */
  cpuUs: number;
  /** Redis round trips per lookup once warm. */
  roundTrips: number;
}

export interface InvalidationDelay {
  name: string;
  trials: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  /** Cached reads issued after the write was acknowledged that still saw the old value. */
  staleReadsAfterAck: number;
  /** Trials with at least one such stale read. */
  trialsWithStaleRead: number;
}

/** `lookups` sequential calls of `fn`; mean latency and client CPU per call. */
async function cost(name: string, roundTrips: number, fn: () => Promise<unknown>): Promise<LookupCost> {
  for (let i = 0; i < Math.min(2000, LOOKUPS); i++) await fn();
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  for (let i = 0; i < LOOKUPS; i++) await fn();
  const elapsed = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  const result = {
    name,
    latencyUs: round((elapsed * 1000) / LOOKUPS),
    cpuUs: round((cpu.user + cpu.system) / LOOKUPS),
    roundTrips,
  };
  console.log(
    `  ${name.padEnd(52)} ${String(result.latencyUs).padStart(7)} µs/lookup  cpu ${result.cpuUs} µs  round trips ${roundTrips}`,
  );
  return result;
}

/**
 * One trial: warm the cache, then `write` (another client) and poll `isChanged` (one cached
 * read per event-loop turn) until it sees the change. Returns ms from issuing the write and
 * the number of reads after the write's acknowledgement that still saw the old value.
 */
async function trial(
  write: () => Promise<unknown>,
  isChanged: () => Promise<boolean>,
): Promise<{ ms: number; staleAfterAck: number }> {
  let acked = false;
  let staleAfterAck = 0;
  const t0 = performance.now();
  const written = write().then(() => {
    acked = true;
  });
  const deadline = t0 + 5000;
  for (;;) {
    const ackedBeforeRead = acked;
    if (await isChanged()) break;
    if (ackedBeforeRead) staleAfterAck += 1;
    if (performance.now() > deadline) throw new Error('change not seen within 5 s');
    await nextTurn();
  }
  const ms = performance.now() - t0;
  await written;
  return { ms, staleAfterAck };
}

function summarize(name: string, samples: Array<{ ms: number; staleAfterAck: number }>): InvalidationDelay {
  const sorted = samples.map((s) => s.ms).sort((a, b) => a - b);
  const result = {
    name,
    trials: samples.length,
    p50Ms: percentile(sorted, 50),
    p99Ms: percentile(sorted, 99),
    maxMs: percentile(sorted, 100),
    staleReadsAfterAck: samples.reduce((n, s) => n + s.staleAfterAck, 0),
    trialsWithStaleRead: samples.filter((s) => s.staleAfterAck > 0).length,
  };
  console.log(
    `  ${name.padEnd(52)} p50 ${result.p50Ms} ms  p99 ${result.p99Ms} ms  max ${result.maxMs} ms  stale reads after ack ${result.staleReadsAfterAck} (${result.trialsWithStaleRead} trials)`,
  );
  return result;
}

export async function runTrackingBench() {
  const redis = await startBenchRedis();
  const sessions = await openSessionFixture(redis.url);
  const plain = new Redis(redis.url);
  const writer = new Redis(redis.url);
  const resp3 = createClient({ url: redis.url, RESP: 3 });
  const tracked = createClient({ url: redis.url, RESP: 3, clientSideCache: { maxEntries: 10_000 } });
  const guard = createGuard({ tokenMode: 'opaque', redis: { kind: 'single', url: redis.url }, env: {} });
  try {
    await Promise.all([resp3.connect(), tracked.connect(), guard.ready()]);
    const { sessionId, token } = await sessions.createSession('tina', ['user']);
    const userId = sessionId.slice(0, sessionId.indexOf('.'));
    const key = `tessera:{u:${userId}}:s:${sessionId}`;
    if ((await plain.exists(key)) !== 1) throw new Error(`session hash not found at ${key}`);

    const lookups: LookupCost[] = [
      await cost('ioredis (RESP2), HGETALL', 1, () => plain.hgetall(key)),
      await cost('node-redis RESP3, HGETALL', 1, () => resp3.hGetAll(key)),
      await cost('node-redis RESP3 + client-side cache, HGETALL', 0, () => tracked.hGetAll(key)),
      await cost('guard: authenticate, cached lookup (feed)', 0, () => guard.authenticate(token)),
    ];
    const cache = tracked.clientSideCache;
    const stats = cache?.stats();
    console.log(`  client-side cache: ${stats?.hitCount} hits, ${stats?.missCount} misses`);

    // Invalidation delay. Each trial restores the hash, warms the cache (two reads, the
    // second a hit), then changes the hash from the writer connection.
    const fields = await plain.hgetall(key);
    const ttl = await plain.pttl(key);
    const restore = async () => {
      await writer.multi().del(key).hset(key, fields).pexpire(key, ttl).exec();
      await tracked.hGetAll(key);
      await tracked.hGetAll(key);
    };
    const delSamples = [];
    for (let i = 0; i < TRIALS; i++) {
      await restore();
      delSamples.push(
        await trial(
          () => writer.del(key),
          async () => Object.keys(await tracked.hGetAll(key)).length === 0,
        ),
      );
    }
    const hsetSamples = [];
    for (let i = 0; i < TRIALS; i++) {
      await restore();
      hsetSamples.push(
        await trial(
          () => writer.hset(key, 'rv', '1'),
          async () => (await tracked.hGetAll(key)).rv === '1',
        ),
      );
    }
    // The same revocation as the guard sees below: the store's revokeSession (stream entry and
    // DEL of the session hash in one script), on a fresh session each time.
    const revokeSamples = [];
    for (let i = 0; i < TRIALS; i++) {
      const s = await sessions.createSession('tina', ['user']);
      const sessionKey = `tessera:{u:${userId}}:s:${s.sessionId}`;
      await tracked.hGetAll(sessionKey);
      await tracked.hGetAll(sessionKey);
      revokeSamples.push(
        await trial(
          () => sessions.store.revokeSession(s.sessionId, Date.now()),
          async () => Object.keys(await tracked.hGetAll(sessionKey)).length === 0,
        ),
      );
    }
    const after = cache?.stats();
    // Each trial: one miss after the write (and one on warm-up); every other read was a hit.
    const trialHits = (after?.hitCount ?? 0) - (stats?.hitCount ?? 0);
    const trialMisses = (after?.missCount ?? 0) - (stats?.missCount ?? 0);
    console.log(`  client-side cache during the trials: ${trialHits} hits, ${trialMisses} misses`);

    // The guard: announce + delete in one script (revokeSession) until the cached token is refused.
    const feedSamples = [];
    for (let i = 0; i < TRIALS; i++) {
      const s = await sessions.createSession('tina', ['user']);
      if (!(await guard.authenticate(s.token)).ok || guard.authenticateCached(s.token) === undefined) {
        throw new Error('guard did not cache the lookup');
      }
      feedSamples.push(
        await trial(
          () => sessions.store.revokeSession(s.sessionId, Date.now()),
          async () => (await guard.authenticate(s.token)).ok === false,
        ),
      );
    }
    const invalidation: InvalidationDelay[] = [
      summarize('node-redis client-side cache: DEL by another client', delSamples),
      summarize('node-redis client-side cache: HSET rv=1 by another client', hsetSamples),
      summarize('node-redis client-side cache: revokeSession (stream entry + DEL)', revokeSamples),
      summarize('guard lookup cache: revokeSession (stream entry + DEL)', feedSamples),
    ];
    return { lookups, invalidation, trialCache: { hits: trialHits, misses: trialMisses } };
  } finally {
    await guard.close();
    tracked.destroy();
    resp3.destroy();
    plain.disconnect();
    writer.disconnect();
    await sessions.close();
    await redis.stop();
  }
}
