// Global revocation latency: time from the logout response until both example services
// (Express and Fastify, jwt mode with the revocation feed) refuse the session; and how fast a
// guard restarts with 100k revoked sessions outstanding, and its memory per revoked session.
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { revocationFields, revocationStreamKey } from '@tessera/core/internal';
import { startRedis as startBenchRedis } from '@tessera/testkit';
import { Redis } from 'ioredis';
import { addUser, loginUser, startAuthService, startTsService } from './lib/stack.ts';

const TRIALS = Number(process.env.BENCH_REVOCATION_TRIALS ?? 100);
const RESTART_ENTRIES = Number(process.env.BENCH_RESTART_ENTRIES ?? 100_000);

function percentile(sorted: number[], p: number): number {
  const index = Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1);
  return Math.round((sorted[Math.max(0, index)] ?? 0) * 100) / 100;
}

/** Polls `url` until it answers 401; returns when (ms, performance clock). Bounded to 5 s. */
async function until401(url: string, token: string): Promise<number> {
  const deadline = performance.now() + 5000;
  while (performance.now() < deadline) {
    const response = await fetch(url, { headers: { authorization: `Bearer ${token}` } });
    await response.arrayBuffer();
    if (response.status === 401) return performance.now();
  }
  throw new Error('revoked session still accepted after 5 s');
}

async function measureLatency(authUrl: string, services: string[]): Promise<number[]> {
  const samples: number[] = [];
  for (let trial = 0; trial < TRIALS; trial++) {
    const { accessToken } = await loginUser(authUrl, 'alice');
    for (const service of services) {
      const response = await fetch(`${service}/whoami`, {
        headers: { authorization: `Bearer ${accessToken}` },
      });
      await response.arrayBuffer();
      if (response.status !== 200) throw new Error(`fresh session refused by ${service}: ${response.status}`);
    }
    const logout = await fetch(`${authUrl}/v1/logout`, {
      method: 'POST',
      headers: { authorization: `Bearer ${accessToken}` },
    });
    await logout.arrayBuffer();
    const t0 = performance.now();
    if (logout.status !== 204) throw new Error(`logout failed: ${logout.status}`);
    const refused = await Promise.all(services.map((s) => until401(`${s}/whoami`, accessToken)));
    samples.push(Math.max(...refused) - t0);
  }
  return samples;
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

async function measureRestart(authUrl: string, redisUrl: string) {
  await fillStream(redisUrl, RESTART_ENTRIES);
  const file = fileURLToPath(new URL('./servers/guard-restart.ts', import.meta.url));
  const runs: Array<{ readyMs: number; heapDeltaBytes: number }> = [];
  for (let i = 0; i < 3; i++) {
    const child = fork(file, [], {
      execArgv: ['--expose-gc', '--import', 'tsx'],
      env: {
        ...process.env,
        TESSERA_AUTH_URL: authUrl,
        TESSERA_REDIS_URL: redisUrl,
        TESSERA_TOKEN_MODE: 'jwt',
      },
    });
    runs.push(
      await new Promise((resolve, reject) => {
        child.once('message', (m) => resolve(m as { readyMs: number; heapDeltaBytes: number }));
        child.once('exit', (code) => code !== 0 && reject(new Error(`guard restart exited ${code}`)));
      }),
    );
  }
  const best = runs.sort((a, b) => a.readyMs - b.readyMs)[1] ?? runs[0];
  return {
    revokedEntries: RESTART_ENTRIES,
    readyMsMedianOf3: Math.round((best?.readyMs ?? 0) * 10) / 10,
    bytesPerRevokedSession: Math.round((best?.heapDeltaBytes ?? 0) / RESTART_ENTRIES),
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
    const samples = (await measureLatency(auth.url, [orders.url, profile.url])).sort((a, b) => a - b);
    const latency = {
      trials: samples.length,
      p50Ms: percentile(samples, 50),
      p99Ms: percentile(samples, 99),
      maxMs: percentile(samples, 100),
    };
    console.log(
      `  revocation latency over ${samples.length} trials: p50 ${latency.p50Ms} ms, p99 ${latency.p99Ms} ms, max ${latency.maxMs} ms`,
    );
    const restart = await measureRestart(auth.url, redis.url);
    console.log(
      `  guard restart with ${restart.revokedEntries} revoked: ready in ${restart.readyMsMedianOf3} ms, ${restart.bytesPerRevokedSession} bytes per revoked session`,
    );
    return { latency, restart };
  } finally {
    await orders.stop();
    await profile.stop();
    await auth.stop();
    await redis.stop();
  }
}
