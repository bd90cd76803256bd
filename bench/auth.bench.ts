// Auth service throughput through HTTP, each next to baselines measured in the same run:
// - logins/s vs bare Fastify doing one argon2id verify per POST (same parameters, same libuv
//   pool size, same 8 connections): the goal's baseline, HTTP on both sides; and vs a bare
//   @node-rs/argon2 verify loop (no HTTP, for reference);
// - refreshes/s vs bare Fastify doing one EdDSA sign + one Redis script call per POST (same 50
//   connections): the goal's baseline; and vs the same work as a bare loop (no HTTP).

import { fork } from 'node:child_process';
import { randomBytes } from 'node:crypto';
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
import { startBenchServer } from './lib/load.ts';
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

export async function loadLogins(
  url: string,
  names: string[],
  cpuUs: () => number | Promise<number>,
): Promise<Measured> {
  let next = 0;
  const cpu0 = await cpuUs();
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
    serverCpuUsPerOp: ok > 0 ? Math.round(((await cpuUs()) - cpu0) / ok) : 0,
  };
}

export async function loadRefreshes(
  url: string,
  names: string[],
  cpuUs: () => number | Promise<number>,
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
  const load = (durationMs: number) => rotatingLoad(`${url}/v1/refresh`, connections, durationMs, pool);
  // The warm-up ends with requests in flight whose successors never come back: fresh sessions after it.
  await fill();
  await load(WARMUP_MS);
  await fill();
  const cpu0 = await cpuUs();
  const result = await load(DURATION_MS);
  const ok = result.requests.total - result.non2xx;
  return {
    name: 'POST /v1/refresh (HTTP, 50 connections, rotating)',
    perSec: Math.round(ok / (DURATION_MS / 1000)),
    latencyP50Ms: result.latency.p50,
    latencyP99Ms: result.latency.p99,
    serverCpuUsPerOp: ok > 0 ? Math.round(((await cpuUs()) - cpu0) / ok) : 0,
    failed: result.non2xx + result.errors,
  };
}

/**
 * autocannon POSTing `{ refreshToken }` bodies taken from `pool`, each 200 answer's
 * `refreshToken` put back (autocannon resets a connection's context after each request
 * sequence, so the live tokens circulate through one shared queue). The service and its
 * baseline are driven by this same client: the load generator shares the 2 cores, so its own
 * work per request (a body per request, every answer parsed) must be the same on both sides.
 */
function rotatingLoad(url: string, connections: number, durationMs: number, pool: string[]) {
  return autocannon({
    url,
    connections,
    duration: durationMs / 1000,
    requests: [
      {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        setupRequest: (request) => ({ ...request, body: JSON.stringify({ refreshToken: pool.shift() }) }),
        onResponse: (status, body) => {
          if (status === 200) pool.push((JSON.parse(body) as { refreshToken: string }).refreshToken);
        },
      },
    ],
  });
}

/** A measured load: successful answers per second, latency, server CPU per successful answer. */
function measured(name: string, result: autocannon.Result, cpuUs: number): Measured {
  const ok = result.requests.total - result.non2xx;
  return {
    name,
    perSec: Math.round(ok / (DURATION_MS / 1000)),
    latencyP50Ms: result.latency.p50,
    latencyP99Ms: result.latency.p99,
    serverCpuUsPerOp: ok > 0 ? Math.round(cpuUs / ok) : 0,
  };
}

/** The refresh baseline, driven like the service (rotatingLoad): each answer's refreshToken goes back in the pool. */
async function fastifySignScript(redisUrl: string): Promise<Measured> {
  const connections = 50;
  const server = await startBenchServer('fastify-sign-script.ts', { TESSERA_REDIS_URL: redisUrl });
  try {
    const url = `http://127.0.0.1:${server.port}/refresh`;
    const fresh = () => Array.from({ length: connections }, () => randomBytes(69).toString('base64url'));
    await rotatingLoad(url, connections, WARMUP_MS, fresh());
    const cpu0 = await server.cpu();
    const result = await rotatingLoad(url, connections, DURATION_MS, fresh());
    return measured(
      `bare Fastify: one EdDSA sign + one Redis script call per POST (${connections} connections)`,
      result,
      (await server.cpu()) - cpu0,
    );
  } finally {
    await server.stop();
  }
}

/** Loads a bench server's POST route with a fixed JSON body (after an unmeasured warm-up). */
async function loadPost(
  name: string,
  script: string,
  path: string,
  body: unknown,
  connections: number,
  env: Record<string, string>,
): Promise<Measured> {
  const server = await startBenchServer(script, env);
  try {
    const options = {
      url: `http://127.0.0.1:${server.port}${path}`,
      connections,
      method: 'POST' as const,
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    };
    await autocannon({ ...options, duration: WARMUP_MS / 1000 });
    const cpu0 = await server.cpu();
    const result = await autocannon({ ...options, duration: DURATION_MS / 1000 });
    return measured(name, result, (await server.cpu()) - cpu0);
  } finally {
    await server.stop();
  }
}

/** The service's libuv pool size (packages/server/bin/tessera.cjs sizes it to the cores). */
const POOL_THREADS = String(Math.max(2, availableParallelism()));

function fastifyArgon2(): Promise<Measured> {
  return loadPost(
    `bare Fastify: one argon2id verify per POST (8 connections, ${POOL_THREADS} pool threads)`,
    'fastify-argon2.ts',
    '/login',
    { username: 'bench0', password: PASSWORD },
    8,
    { UV_THREADPOOL_SIZE: POOL_THREADS },
  );
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
    const loginHttp = await fastifyArgon2();
    const argon = await bareArgon2();
    const refreshes = await loadRefreshes(url, names, server.cpuUs);
    const refreshHttp = await fastifySignScript(redis.url);
    const bare = await bareSignAndScript(redis.url);
    const engine = await engineRefreshes(redis.url);
    for (const m of [logins, loginHttp, argon, refreshes, refreshHttp, engine, bare])
      console.log(`  ${m.name.padEnd(80)} ${m.perSec}/s  p99 ${m.latencyP99Ms ?? '-'} ms`);
    return {
      login: {
        service: logins,
        baseline: loginHttp,
        ratio: ratio(logins.perSec, loginHttp.perSec),
        loop: argon,
        loopRatio: ratio(logins.perSec, argon.perSec),
      },
      refresh: {
        service: refreshes,
        engine,
        baseline: refreshHttp,
        ratio: ratio(refreshes.perSec, refreshHttp.perSec),
        loop: bare,
        loopRatio: ratio(refreshes.perSec, bare.perSec),
        engineRatio: ratio(engine.perSec, bare.perSec),
      },
    };
  } finally {
    await server.stop();
    await redis.stop();
  }
}
