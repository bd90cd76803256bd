// Auth service throughput through HTTP, each next to a bare loop measured in the same run:
// - logins/s vs a bare @node-rs/argon2 verify loop (argon2id dominates a login);
// - refreshes/s vs a bare loop of one EdDSA sign + one Redis script call (what a refresh must do).

import { fork } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  connectRedis,
  createRedisClient,
  createRedisStore,
  createSessionService,
  loadKeyRing,
} from '@tessera/core';
import { freePort, startRedis as startBenchRedis } from '@tessera/testkit';
import autocannon from 'autocannon';
import { Redis } from 'ioredis';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { runLoop, startChild } from './lib/process.ts';
import { ratio } from './lib/results.ts';

const DURATION_MS = Number(process.env.BENCH_DURATION ?? 5) * 1000;
/** Unmeasured run before each refresh measurement (service and baselines alike), so JIT warm-up is not counted. */
const WARMUP_MS = 1000;
const ADMIN = 'bench-admin-token-0123456789abcdef';
const PASSWORD = 'bench password 1234';
const USERS = 50;

interface Measured {
  name: string;
  perSec: number;
  latencyP50Ms?: number;
  latencyP99Ms?: number;
  serverCpuUsPerOp?: number;
}

async function createUsers(url: string): Promise<string[]> {
  const names = Array.from({ length: USERS }, (_, i) => `bench${i}`);
  for (const username of names) {
    const response = await fetch(`${url}/v1/admin/users`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ username, password: PASSWORD, roles: ['user'] }),
    });
    if (response.status !== 201) throw new Error(`could not create bench user: ${response.status}`);
  }
  return names;
}

async function login(url: string, username: string): Promise<string> {
  const response = await fetch(`${url}/v1/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username, password: PASSWORD }),
  });
  const body = (await response.json()) as { refreshToken: string };
  return body.refreshToken;
}

async function loadLogins(url: string, names: string[], cpuUs: () => number): Promise<Measured> {
  let next = 0;
  const cpu0 = cpuUs();
  const result = await autocannon({
    url: `${url}/v1/login`,
    connections: 8,
    duration: DURATION_MS / 1000,
    requests: [
      {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        setupRequest: (request) => ({
          ...request,
          body: JSON.stringify({ username: names[next++ % names.length], password: PASSWORD }),
        }),
      },
    ],
  });
  const ok = result.requests.total - result.non2xx;
  return {
    name: 'POST /v1/login (HTTP, 8 connections)',
    perSec: Math.round(ok / (DURATION_MS / 1000)),
    latencyP50Ms: result.latency.p50,
    latencyP99Ms: result.latency.p99,
    serverCpuUsPerOp: ok > 0 ? Math.round((cpuUs() - cpu0) / ok) : 0,
  };
}

async function loadRefreshes(
  url: string,
  names: string[],
  cpuUs: () => number,
): Promise<Measured & { failed: number }> {
  const connections = 50;
  const pool: string[] = [];
  const fill = async () => {
    pool.length = 0;
    pool.push(
      ...(await Promise.all(
        Array.from({ length: connections }, (_, i) => login(url, names[i % names.length] as string)),
      )),
    );
  };
  const load = (durationMs: number) =>
    autocannon({
      url: `${url}/v1/refresh`,
      connections,
      duration: durationMs / 1000,
      requests: [
        {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          // autocannon resets a connection's context after each request sequence, so the live
          // refresh tokens circulate through one shared queue: each response puts its successor back.
          setupRequest: (request) => ({ ...request, body: JSON.stringify({ refreshToken: pool.shift() }) }),
          onResponse: (status, body) => {
            if (status === 200) pool.push((JSON.parse(body) as { refreshToken: string }).refreshToken);
          },
        },
      ],
    });
  // The warm-up ends with requests in flight whose successors never come back: fresh sessions after it.
  await fill();
  await load(WARMUP_MS);
  await fill();
  const cpu0 = cpuUs();
  const result = await load(DURATION_MS);
  const ok = result.requests.total - result.non2xx;
  return {
    name: 'POST /v1/refresh (HTTP, 50 connections, rotating)',
    perSec: Math.round(ok / (DURATION_MS / 1000)),
    latencyP50Ms: result.latency.p50,
    latencyP99Ms: result.latency.p99,
    serverCpuUsPerOp: ok > 0 ? Math.round((cpuUs() - cpu0) / ok) : 0,
    failed: result.non2xx + result.errors,
  };
}

async function bareArgon2(): Promise<Measured> {
  const threads = String(Math.max(2, availableParallelism()));
  const child = fork(fileURLToPath(new URL('./servers/argon2-loop.ts', import.meta.url)), [], {
    execArgv: ['--import', 'tsx'],
    env: { ...process.env, UV_THREADPOOL_SIZE: threads, BENCH_DURATION_MS: String(DURATION_MS) },
  });
  const perSec = await new Promise<number>((resolve, reject) => {
    child.once('message', (m) => resolve((m as { perSec: number }).perSec));
    child.once('exit', (code) => code !== 0 && reject(new Error(`argon2 loop exited ${code}`)));
  });
  return {
    name: `bare @node-rs/argon2 verify loop (8 in flight, ${threads} pool threads as the service)`,
    perSec,
  };
}

async function bareSignAndScript(redisUrl: string): Promise<Measured> {
  const redis = new Redis(redisUrl);
  const { privateKey, publicKey } = await generateKeyPair('EdDSA');
  const kid = (await exportJWK(publicKey)).x ?? 'k';
  const script =
    "redis.call('HSET', KEYS[1], 'rh', ARGV[1]); redis.call('PEXPIRE', KEYS[1], 60000); return 1";
  let i = 0;
  const work = async () => {
    await new SignJWT({ sid: 's', roles: [] })
      .setProtectedHeader({ alg: 'EdDSA', kid, typ: 'at+jwt' })
      .setIssuedAt()
      .setExpirationTime('10m')
      .sign(privateKey);
    await redis.eval(script, 1, `bench:{u:${i++ % 50}}:s`, 'x');
  };
  try {
    await runLoop(50, WARMUP_MS, work);
    const perSec = await runLoop(50, DURATION_MS, work);
    return { name: 'bare loop: one EdDSA sign + one Redis script call (50 in flight)', perSec };
  } finally {
    redis.disconnect();
  }
}

/** The session engine alone (no HTTP): 50 refresh chains in flight against the same Redis. */
async function engineRefreshes(redisUrl: string): Promise<Measured> {
  const client = createRedisClient({ kind: 'single', url: redisUrl });
  await connectRedis(client);
  const keys = await loadKeyRing({
    alg: 'EdDSA',
    dataDir: mkdtempSync(join(tmpdir(), 'tessera-bench-keys-')),
    maxTokenLifetimeMs: 600_000,
  });
  const store = createRedisStore({ client, revocationRetentionMs: 660_000 });
  const service = createSessionService({ store, keys, issuer: 'http://bench', audience: 'tessera' });
  try {
    const chains = await Promise.all(
      Array.from({ length: 50 }, async (_, i) => {
        const issued = await service.login({
          userId: `engine${i}`,
          roles: [],
          ip: '127.0.0.1',
          userAgent: 'bench',
        });
        return issued.refreshToken as string;
      }),
    );
    // One chain per loop at a time (taken from the queue, its successor put back), as the HTTP
    // load does: picking chains round-robin let two loops present the same token at once, so a
    // share of the refreshes took the grace path (a second decryption) instead of rotating.
    const work = async () => {
      const issued = await service.refresh(chains.shift() as string);
      chains.push(issued.refreshToken as string);
    };
    await runLoop(50, WARMUP_MS, work);
    const perSec = await runLoop(50, DURATION_MS, work);
    return { name: 'session service refresh, no HTTP (50 in flight)', perSec };
  } finally {
    keys.close();
    await store.close();
  }
}

export async function runAuthBench() {
  const redis = await startBenchRedis();
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const server = await startChild(
    ['packages/server/bin/tessera.cjs', 'serve'],
    {
      PORT: String(port),
      TESSERA_REDIS_URL: redis.url,
      TESSERA_DATA_DIR: mkdtempSync(join(tmpdir(), 'tessera-bench-')),
      TESSERA_USERS: 'memory',
      TESSERA_ADMIN_TOKEN: ADMIN,
      TESSERA_LOGIN_RATE_USER: '1000000',
      TESSERA_LOGIN_RATE_IP: '1000000',
    },
    url,
    '/readyz',
  );
  try {
    const names = await createUsers(url);
    const logins = await loadLogins(url, names, server.cpuUs);
    const argon = await bareArgon2();
    const refreshes = await loadRefreshes(url, names, server.cpuUs);
    const bare = await bareSignAndScript(redis.url);
    const engine = await engineRefreshes(redis.url);
    for (const m of [logins, argon, refreshes, engine, bare])
      console.log(`  ${m.name.padEnd(66)} ${m.perSec}/s`);
    return {
      login: { service: logins, baseline: argon, ratio: ratio(logins.perSec, argon.perSec) },
      refresh: {
        service: refreshes,
        engine,
        baseline: bare,
        ratio: ratio(refreshes.perSec, bare.perSec),
        engineRatio: ratio(engine.perSec, bare.perSec),
      },
    };
  } finally {
    await server.stop();
    await redis.stop();
  }
}
