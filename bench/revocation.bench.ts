// Global revocation latency: time from the logout response until both example services
// (Express and Fastify, jwt mode with the revocation feed) refuse the session; and how fast a
// guard restarts with 100k revoked sessions outstanding, and its memory per revoked session.
import { fork } from 'node:child_process';
import { Agent, get } from 'node:http';
import { fileURLToPath } from 'node:url';
import { revocationFields, revocationStreamKey } from '@tessera/core/internal';
import { createGuard } from '@tessera/guard';
import { startRedis as startBenchRedis } from '@tessera/testkit';
import { Redis } from 'ioredis';
import { addUser, loginUser, startAuthService, startTsService } from './lib/stack.ts';

const TRIALS = Number(process.env.BENCH_REVOCATION_TRIALS ?? 100);
const RESTART_ENTRIES = Number(process.env.BENCH_RESTART_ENTRIES ?? 100_000);

function percentile(sorted: number[], p: number): number {
  const index = Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1);
  return Math.round((sorted[Math.max(0, index)] ?? 0) * 100) / 100;
}

/** One trial's timeline, ms from the logout request being sent (performance clock). */
export interface TrialTimeline {
  /** The logout response arrived (the revocation script ran before it: XADD included). */
  response: number;
  /** The stream entry's id time (the auth service's clock when it appended, ms resolution). */
  entryStamp: number;
  /** A bench-side XREAD BLOCK on the stream (as the guard's feed does) woke with the entry. */
  probeWake: number;
  /** An in-process guard (same options as the services) refused the cached token (its set updated). */
  guardSetUpdated: number;
  /** Both services answered 401 to an HTTP request (the measured latency ends here). */
  servicesRefused: number;
  /** HTTP polls needed (both services together) until both refused. */
  polls: number;
}

/**
 * Keep-alive node:http client for the polls: cheaper per request than fetch (undici), so the
 * measurement adds less of its own time to what it measures.
 */
const agent = new Agent({ keepAlive: true, maxSockets: 4 });
function statusOf(url: string, token: string): Promise<number> {
  return new Promise((resolve, reject) => {
    get(url, { agent, headers: { authorization: `Bearer ${token}` } }, (response) => {
      response.resume();
      response.on('end', () => resolve(response.statusCode ?? 0));
    }).on('error', reject);
  });
}

/** Polls `url` until it answers 401; returns when (ms, performance clock) and the polls made. Bounded to 5 s. */
async function until401(url: string, token: string): Promise<{ at: number; polls: number }> {
  const deadline = performance.now() + 5000;
  let polls = 0;
  while (performance.now() < deadline) {
    const status = await statusOf(url, token);
    polls++;
    if (status === 401) return { at: performance.now(), polls };
  }
  throw new Error('revoked session still accepted after 5 s');
}

/** Resolves when `refused()` is true, checked once per event-loop turn (bounded to 5 s). */
async function untilTrue(refused: () => boolean): Promise<number> {
  const deadline = performance.now() + 5000;
  while (!refused()) {
    if (performance.now() > deadline) throw new Error('in-process guard still accepts after 5 s');
    await new Promise((resolve) => setImmediate(resolve));
  }
  return performance.now();
}

async function measureLatency(authUrl: string, redisUrl: string, services: string[]) {
  const samples: number[] = [];
  const timelines: TrialTimeline[] = [];
  const probe = new Redis(redisUrl);
  const guard = createGuard({ authUrl, redis: { kind: 'single', url: redisUrl }, tokenMode: 'jwt', env: {} });
  await guard.ready();
  try {
    for (let trial = 0; trial < TRIALS; trial++) {
      const { accessToken } = await loginUser(authUrl, 'alice');
      for (const service of services) {
        const status = await statusOf(`${service}/whoami`, accessToken);
        if (status !== 200) throw new Error(`fresh session refused by ${service}: ${status}`);
      }
      if (!(await guard.authenticate(accessToken)).ok)
        throw new Error('in-process guard refused a fresh session');
      const last = ((await probe.xrevrange(revocationStreamKey(), '+', '-', 'COUNT', 1))[0]?.[0] ??
        '0-0') as string;
      // The probe blocks like the guard's feed, from the last entry: it wakes with the logout's.
      const woke = probe
        .xread('BLOCK', 5000, 'STREAMS', revocationStreamKey(), last)
        .then((reply) => ({ at: performance.now(), id: reply?.[0]?.[1]?.[0]?.[0] ?? '0-0' }));
      await new Promise((resolve) => setTimeout(resolve, 5)); // the XREAD is parked before the logout
      const sent = performance.now();
      const sentWall = Date.now();
      const gone = untilTrue(() => {
        const cached = guard.authenticateCached(accessToken);
        return cached !== undefined && !cached.ok;
      });
      const logout = await fetch(`${authUrl}/v1/logout`, {
        method: 'POST',
        headers: { authorization: `Bearer ${accessToken}` },
      });
      await logout.arrayBuffer();
      const t0 = performance.now();
      if (logout.status !== 204) throw new Error(`logout failed: ${logout.status}`);
      const refused = await Promise.all(services.map((s) => until401(`${s}/whoami`, accessToken)));
      const end = Math.max(...refused.map((r) => r.at));
      samples.push(end - t0);
      const wake = await woke;
      const guardAt = await gone;
      timelines.push({
        response: t0 - sent,
        entryStamp: Number(wake.id.split('-')[0]) - sentWall,
        probeWake: wake.at - sent,
        guardSetUpdated: guardAt - sent,
        servicesRefused: end - sent,
        polls: refused.reduce((n, r) => n + r.polls, 0),
      });
    }
  } finally {
    agent.destroy();
    probe.disconnect();
    await guard.close();
  }
  return { samples, timelines };
}

async function fillStream(redisUrl: string, count: number): Promise<void> {
  const redis = new Redis(redisUrl);
  const key = revocationStreamKey();
  const until = Date.now() + 10 * 60_000;
  for (let i = 0; i < count; i += 1000) {
    const pipeline = redis.pipeline();
    for (let j = i; j < Math.min(count, i + 1000); j++) {
      const userId = `user${j}`;
      pipeline.xadd(
        key,
        '*',
        ...revocationFields({ kind: 'session', userId, sessionId: `${userId}.${'A'.repeat(22)}`, until }),
      );
    }
    await pipeline.exec();
  }
  await redis.pexpire(key, 11 * 60_000);
  redis.disconnect();
}

type RestartRun = { readyMs: number; heapDeltaBytes: number };

/** One fresh guard process (bench/servers/guard-restart.ts): its ready time and heap growth. */
function restartOnce(authUrl: string, redisUrl: string): Promise<RestartRun> {
  const file = fileURLToPath(new URL('./servers/guard-restart.ts', import.meta.url));
  const child = fork(file, [], {
    execArgv: ['--expose-gc', '--import', 'tsx'],
    env: {
      ...process.env,
      TESSERA_AUTH_URL: authUrl,
      TESSERA_REDIS_URL: redisUrl,
      TESSERA_TOKEN_MODE: 'jwt',
    },
  });
  return new Promise((resolve, reject) => {
    child.once('message', (m) => resolve(m as RestartRun));
    child.once('exit', (code) => code !== 0 && reject(new Error(`guard restart exited ${code}`)));
  });
}

async function measureRestart(authUrl: string, redisUrl: string) {
  // A guard's own heap (JWKS, clients, code) with only the latency trials' entries on the
  // stream: subtracted, so "bytes per revoked session" is what each revoked id adds.
  const empty = await restartOnce(authUrl, redisUrl);
  await fillStream(redisUrl, RESTART_ENTRIES);
  const runs: RestartRun[] = [];
  for (let i = 0; i < 3; i++) runs.push(await restartOnce(authUrl, redisUrl));
  const best = runs.sort((a, b) => a.readyMs - b.readyMs)[1] ?? runs[0];
  return {
    revokedEntries: RESTART_ENTRIES,
    readyMsMedianOf3: Math.round((best?.readyMs ?? 0) * 10) / 10,
    bytesPerRevokedSession: Math.round(
      ((best?.heapDeltaBytes ?? 0) - empty.heapDeltaBytes) / RESTART_ENTRIES,
    ),
    guardHeapBytes: empty.heapDeltaBytes,
  };
}

export async function runRevocationBench() {
  const redis = await startBenchRedis();
  const auth = await startAuthService(redis);
  const env = { TESSERA_AUTH_URL: auth.url, TESSERA_REDIS_URL: redis.url, TESSERA_TOKEN_MODE: 'jwt' };
  const orders = await startTsService('examples/shop/src/orders.ts', env);
  const profile = await startTsService('examples/shop/src/profile.ts', env);
  try {
    await addUser(auth.url, 'alice', ['admin']);
    const measured = await measureLatency(auth.url, redis.url, [orders.url, profile.url]);
    const samples = [...measured.samples].sort((a, b) => a - b);
    const latency = {
      trials: samples.length,
      p50Ms: percentile(samples, 50),
      p99Ms: percentile(samples, 99),
      maxMs: percentile(samples, 100),
    };
    // Where the time goes: each step's p50/p99 over the trials, ms from the logout request.
    const step = (pick: (t: TrialTimeline) => number) => {
      const sorted = measured.timelines.map(pick).sort((a, b) => a - b);
      return { p50Ms: percentile(sorted, 50), p99Ms: percentile(sorted, 99) };
    };
    const breakdown = {
      logoutResponse: step((t) => t.response),
      entryStamp: step((t) => t.entryStamp),
      probeWake: step((t) => t.probeWake),
      guardSetUpdated: step((t) => t.guardSetUpdated),
      servicesRefused: step((t) => t.servicesRefused),
      pollsPerTrial: step((t) => t.polls),
    };
    console.log(`  breakdown (ms from the logout request): ${JSON.stringify(breakdown)}`);
    console.log(
      `  revocation latency over ${samples.length} trials: p50 ${latency.p50Ms} ms, p99 ${latency.p99Ms} ms, max ${latency.maxMs} ms`,
    );
    const restart = await measureRestart(auth.url, redis.url);
    console.log(
      `  guard restart with ${restart.revokedEntries} revoked: ready in ${restart.readyMsMedianOf3} ms, ${restart.bytesPerRevokedSession} bytes per revoked session`,
    );
    return { latency, samples: measured.samples, breakdown, timelines: measured.timelines, restart };
  } finally {
    await orders.stop();
    await profile.stop();
    await auth.stop();
    await redis.stop();
  }
}
