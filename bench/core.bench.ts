// Core micro-benchmark: access-token sign/verify per algorithm, and the session service's
// login / authenticate / refresh / revoke on the memory store and on a real Redis.
// Run: `npx tsx bench/core.bench.ts` (writes bench/results/core.json), or `npm run bench -- core`.
// Each measurement runs for a fixed time after a short warm-up; numbers are this machine's,
// compare them only with numbers from the same run.
import { randomUUID } from 'node:crypto';
import { pathToFileURL } from 'node:url';
import {
  type AccessTokenClaims,
  connectRedis,
  createMemoryStore,
  createRedisClient,
  createRedisStore,
  createSessionService,
  type KeyRing,
  loadKeyRing,
  type SessionStore,
  type SigningAlg,
  verifyAccessToken,
} from '@tessera/core';
import { generateSigningKey, signAccessToken } from '@tessera/core/internal';
import { startRedis as startBenchRedis } from '@tessera/testkit';
import { createLocalJWKSet, jwtVerify } from 'jose';
import { machine, writeResult } from './lib/results.ts';

export interface CoreBenchEntry {
  name: string;
  opsPerSec: number;
  /** Mean time per operation as one caller sees it (µs). */
  meanLatencyUs: number;
  ops: number;
  durationMs: number;
  /** Operations in flight at once. */
  concurrency: number;
  group: 'tokens' | 'store';
  alg?: SigningAlg;
  store?: 'memory' | 'redis';
}

export interface CoreBenchResult {
  machine: { cpus: number; node: string; cpuModel?: string };
  date: string;
  durationMsPerMeasurement: number;
  results: CoreBenchEntry[];
}

export interface CoreBenchOptions {
  /** Redis to measure against; default: a private redis-server spawned for the run. */
  redisUrl?: string;
  /** How long each measurement runs (ms). @default 1000 */
  durationMs?: number;
}

const ALGS: SigningAlg[] = ['EdDSA', 'ES256', 'RS256'];
const ISSUER = 'http://bench.tessera';
const AUDIENCE = 'tessera';

type Meta = Pick<CoreBenchEntry, 'group'> & Partial<Pick<CoreBenchEntry, 'alg' | 'store'>>;

/** Runs `op` for `durationMs` with `concurrency` callers, after a warm-up. `op` gets its caller's index. */
async function measure(
  name: string,
  op: (worker: number) => Promise<unknown>,
  durationMs: number,
  meta: Meta,
  concurrency = 1,
  warmUp = true,
): Promise<CoreBenchEntry> {
  const run = async (ms: number) => {
    let ops = 0;
    const start = performance.now();
    const end = start + ms;
    let exhausted = false;
    const worker = async (index: number) => {
      while (!exhausted && performance.now() < end) {
        if ((await op(index)) === EXHAUSTED) exhausted = true;
        else ops++;
      }
    };
    await Promise.all(Array.from({ length: concurrency }, (_, i) => worker(i)));
    return { ops, elapsed: performance.now() - start };
  };
  if (warmUp) await run(Math.min(200, durationMs / 5));
  const { ops, elapsed } = await run(durationMs);
  const entry: CoreBenchEntry = {
    name,
    opsPerSec: Math.round(ops / (elapsed / 1000)),
    meanLatencyUs: ops > 0 ? Math.round(((elapsed * 1000) / ops) * concurrency * 10) / 10 : 0,
    ops,
    durationMs: Math.round(elapsed),
    concurrency,
    ...meta,
  };
  console.log(
    `  ${name.padEnd(52)} ${String(entry.opsPerSec).padStart(8)} ops/s  ${String(entry.meanLatencyUs).padStart(8)} µs/op`,
  );
  return entry;
}

/** Returned by an operation that ran out of prepared input (e.g. sessions left to revoke). */
const EXHAUSTED = Symbol('exhausted');

function benchClaims(): AccessTokenClaims {
  const now = Math.floor(Date.now() / 1000);
  const sid = 'bench-user.AAAAAAAAAAAAAAAAAAAAAA';
  return {
    iss: ISSUER,
    sub: 'bench-user',
    aud: AUDIENCE,
    iat: now,
    exp: now + 3600,
    jti: randomUUID(),
    sid,
    roles: ['user'],
  };
}

async function benchTokens(durationMs: number): Promise<CoreBenchEntry[]> {
  const results: CoreBenchEntry[] = [];
  const keysJson = JSON.stringify({ keys: await Promise.all(ALGS.map((alg) => generateSigningKey(alg))) });
  for (const alg of ALGS) {
    const ring = await loadKeyRing({ alg, keysJson, maxTokenLifetimeMs: 3_600_000 });
    const key = await ring.signingKey();
    const claims = benchClaims();
    const meta: Meta = { group: 'tokens', alg };
    results.push(
      await measure(`sign access token ${alg}`, () => signAccessToken(key, claims), durationMs, meta),
    );
    const token = await signAccessToken(key, claims);
    const keys = ring.verificationKeys();
    const options = { issuer: ISSUER, audience: AUDIENCE, algorithms: [alg] };
    const verify = async () => {
      const result = await verifyAccessToken(token, keys, options);
      if (!result.ok) throw new Error('bench token did not verify');
    };
    results.push(await measure(`verify access token ${alg}`, verify, durationMs, meta));
    // Baseline: jose alone against the published JWKS, to show what verifyAccessToken adds.
    const local = createLocalJWKSet(await ring.jwks());
    const joseOnly = () => jwtVerify(token, local, { issuer: ISSUER, audience: AUDIENCE, algorithms: [alg] });
    results.push(await measure(`jose.jwtVerify baseline ${alg}`, joseOnly, durationMs, meta));
    ring.close();
  }
  return results;
}

// ───────────────────────────── store operations ─────────────────────────────
// login / authenticate (verify + store get) / refresh (rotation) / revoke through the session
// service, on each store, with 1 caller and with many callers in flight (a server's view).

async function benchStore(
  label: 'memory' | 'redis',
  store: SessionStore,
  keys: KeyRing,
  durationMs: number,
  concurrency: number,
): Promise<CoreBenchEntry[]> {
  const service = createSessionService({ store, keys, issuer: ISSUER, audience: AUDIENCE });
  const meta: Meta = { group: 'store', store: label };
  const suffix = `(${label}, ${concurrency} in flight)`;
  const results: CoreBenchEntry[] = [];
  const revocable: string[] = [];
  const chains: { refreshToken: string; accessToken: string }[][] = Array.from(
    { length: concurrency },
    () => [],
  );
  let n = 0;
  const login = async (worker: number) => {
    const userId = `bench-${label}-${n++ % 1000}`;
    const issued = await service.login({ userId, roles: ['user'], ip: '127.0.0.1', userAgent: 'bench' });
    const chain = chains[worker];
    if (chain && chain.length < 64 && issued.refreshToken) {
      chain.push({ refreshToken: issued.refreshToken, accessToken: issued.accessToken });
    } else revocable.push(issued.session.id);
  };
  results.push(await measure(`session login ${suffix}`, login, durationMs, meta, concurrency));

  const turn = new Array<number>(concurrency).fill(0);
  /** The next session of a caller's own chain (round robin), so no two callers share a refresh token. */
  const nextLink = (worker: number) => {
    const chain = chains[worker] ?? [];
    const at = turn[worker] ?? 0;
    turn[worker] = at + 1;
    return chain[at % chain.length];
  };
  const authenticate = async (worker: number) => {
    const link = nextLink(worker);
    if (link) await service.authenticate(link.accessToken);
  };
  results.push(await measure(`session authenticate ${suffix}`, authenticate, durationMs, meta, concurrency));

  const refresh = async (worker: number) => {
    const link = nextLink(worker);
    if (!link) return;
    const issued = await service.refresh(link.refreshToken);
    link.refreshToken = issued.refreshToken ?? link.refreshToken;
  };
  results.push(await measure(`session refresh ${suffix}`, refresh, durationMs, meta, concurrency));

  // Revoking needs one fresh session per operation: top the pool up (untimed) to about three
  // times what login managed, then revoke until the time is up or the pool is empty.
  const loginRate = results[0]?.opsPerSec ?? 1000;
  const target = Math.max(2000, Math.ceil((3 * loginRate * durationMs) / 1000));
  while (revocable.length < target) {
    await Promise.all(Array.from({ length: Math.max(concurrency, 8) }, () => login(concurrency)));
  }
  const revoke = async () => {
    const sessionId = revocable.pop();
    if (sessionId === undefined) return EXHAUSTED;
    if (!(await service.revokeSession(sessionId))) throw new Error('bench session was not live');
  };
  results.push(await measure(`session revoke ${suffix}`, revoke, durationMs, meta, concurrency, false));
  return results;
}

async function benchStores(durationMs: number, redisUrl: string | undefined): Promise<CoreBenchEntry[]> {
  const results: CoreBenchEntry[] = [];
  const keysJson = JSON.stringify({ keys: [await generateSigningKey('EdDSA')] });
  const keys = await loadKeyRing({ alg: 'EdDSA', keysJson, maxTokenLifetimeMs: 600_000 });
  const memory = createMemoryStore();
  try {
    results.push(...(await benchStore('memory', memory, keys, durationMs, 1)));
  } finally {
    await memory.close();
  }
  const spawned = redisUrl === undefined ? await startBenchRedis() : undefined;
  const client = createRedisClient({ kind: 'single', url: redisUrl ?? spawned?.url ?? '' });
  try {
    await connectRedis(client);
    const redis = createRedisStore({ client, revocationRetentionMs: 15 * 60_000 });
    for (const concurrency of [1, 32]) {
      results.push(...(await benchStore('redis', redis, keys, durationMs, concurrency)));
    }
    await redis.close();
  } finally {
    client.disconnect();
    await spawned?.stop();
  }
  keys.close();
  return results;
}

/** Runs every core measurement; see the file header. */
export async function runCoreBench(options: CoreBenchOptions = {}): Promise<CoreBenchResult> {
  const durationMs = options.durationMs ?? 1000;
  if (!Number.isFinite(durationMs) || durationMs <= 0) throw new TypeError('durationMs must be > 0');
  const results = [...(await benchTokens(durationMs)), ...(await benchStores(durationMs, options.redisUrl))];
  return {
    machine: machine(),
    date: new Date().toISOString(),
    durationMsPerMeasurement: durationMs,
    results,
  };
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const duration = process.env.BENCH_DURATION_MS;
  const result = await runCoreBench({
    ...(process.env.BENCH_REDIS_URL ? { redisUrl: process.env.BENCH_REDIS_URL } : {}),
    ...(duration ? { durationMs: Number(duration) } : {}),
  });
  writeResult('core', result);
  console.log('bench: core → bench/results/core.json');
}
