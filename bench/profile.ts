// `npm run bench:profile -- <target> [label]`: CPU profile (`node --cpu-prof`) of one server
// under autocannon load, summarised into bench/results/profile-<target>-<label>.json (top
// self-time frames, time per owner, inclusive time of watched frames). Targets:
// - `authorize`: the auth service answering `GET /v1/authorize` (EdDSA bearer token, the
//   default LOG_LEVEL=info with stdout to /dev/null, as deployed behind nginx);
// - `login`, `refresh`: the auth service under the auth suite's loads (bench/auth.bench.ts:
//   `POST /v1/login` from 8 connections over 50 users, `POST /v1/refresh` from 50 connections
//   rotating their tokens), with the suite's LOG_LEVEL=silent unless BENCH_LOG_LEVEL says;
//   the login profile shows the main thread only (argon2 runs on the libuv pool);
// - `guard-node`: bench/servers/guard-node.ts (node:http + guard, jwt mode, feed);
// - `bare-fastify`, `raw-node`: the baselines, for the same view of what every server pays;
// - `fastify-argon2`, `fastify-sign-script`: the login and refresh baselines of the auth suite
//   under the same loads (8 and 50 connections, the same JSON bodies).
// Load time: BENCH_PROFILE_SECONDS (default 10). Frame weights are relative, so a loaded
// machine still shows where the time goes.
import { mkdtempSync, readdirSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { startRedis } from '@tessera/testkit';
import autocannon from 'autocannon';
import { summariseProfile } from './lib/cpu-profile.ts';
import { runLoad, startBenchServer } from './lib/load.ts';
import { writeResult } from './lib/results.ts';
import { addUser, BENCH_PASSWORD, loginUser, startAuthService } from './lib/stack.ts';

const target = process.argv[2] ?? 'authorize';
const label = process.argv[3] ?? 'current';
const seconds = Number(process.env.BENCH_PROFILE_SECONDS ?? 10);

/** Frames whose inclusive share is worth watching on these paths. */
const WATCH = [
  'onResponse',
  'onSend',
  'genReqId',
  'observe',
  'answerAuthorize',
  'readCredential',
  'identify',
  'authenticate',
  'credentialFrom',
  'writeHead',
  'LOG',
];

const dir = mkdtempSync(join(tmpdir(), 'tessera-profile-'));
const profileArgs = ['--cpu-prof', '--cpu-prof-dir', dir];
const redis = await startRedis();
let load: Awaited<ReturnType<typeof runLoad>>;
try {
  if (target === 'authorize') {
    const auth = await startAuthService(
      redis,
      { LOG_LEVEL: process.env.BENCH_LOG_LEVEL ?? 'info' },
      profileArgs,
    );
    try {
      await addUser(auth.url, 'alice', ['admin']);
      const { accessToken } = await loginUser(auth.url, 'alice');
      load = await runLoad({
        name: 'GET /v1/authorize',
        url: `${auth.url}/v1/authorize`,
        headers: { authorization: `Bearer ${accessToken}` },
        durationSec: seconds,
        cpu: auth.cpuUs,
      });
    } finally {
      await auth.stop();
    }
  } else if (target === 'login' || target === 'refresh') {
    const auth = await startAuthService(
      redis,
      { LOG_LEVEL: process.env.BENCH_LOG_LEVEL ?? 'silent' },
      profileArgs,
    );
    try {
      // The suite's loads, lasting the profile's seconds (read when auth.bench.ts is imported).
      process.env.BENCH_DURATION ??= String(seconds);
      const { loadLogins, loadRefreshes } = await import('./auth.bench.ts');
      const names = Array.from({ length: 50 }, (_, i) => `bench${i}`);
      for (const name of names) await addUser(auth.url, name, ['user']);
      const measured = await (target === 'login' ? loadLogins : loadRefreshes)(auth.url, names, auth.cpuUs);
      load = {
        name: measured.name,
        requestsPerSec: measured.perSec,
        latencyP50Ms: measured.latencyP50Ms ?? 0,
        latencyP99Ms: measured.latencyP99Ms ?? 0,
        serverCpuUsPerRequest: measured.serverCpuUsPerOp ?? 0,
        requests: 0,
        non2xx: 0,
        errors: 0,
      };
    } finally {
      await auth.stop();
    }
  } else if (target === 'fastify-argon2' || target === 'fastify-sign-script') {
    const login = target === 'fastify-argon2';
    const env: Record<string, string> = login
      ? { UV_THREADPOOL_SIZE: String(Math.max(2, availableParallelism())) }
      : { TESSERA_REDIS_URL: redis.url };
    const server = await startBenchServer(`${target}.ts`, env, profileArgs);
    try {
      const body = login
        ? { username: 'bench0', password: BENCH_PASSWORD }
        : { refreshToken: 'x'.repeat(80) };
      const options = {
        url: `http://127.0.0.1:${server.port}${login ? '/login' : '/refresh'}`,
        connections: login ? 8 : 50,
        method: 'POST' as const,
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      };
      await autocannon({ ...options, duration: 1 });
      const cpu0 = await server.cpu();
      const result = await autocannon({ ...options, duration: seconds });
      const ok = result.requests.total - result.non2xx;
      load = {
        name: target,
        requestsPerSec: Math.round(ok / seconds),
        latencyP50Ms: result.latency.p50,
        latencyP99Ms: result.latency.p99,
        serverCpuUsPerRequest: ok > 0 ? Math.round(((await server.cpu()) - cpu0) / ok) : 0,
        requests: result.requests.total,
        non2xx: result.non2xx,
        errors: result.errors,
      };
    } finally {
      await server.stop();
    }
  } else if (target === 'guard-node') {
    const auth = await startAuthService(redis);
    try {
      await addUser(auth.url, 'alice', ['admin']);
      const { accessToken } = await loginUser(auth.url, 'alice');
      const env = { TESSERA_AUTH_URL: auth.url, TESSERA_REDIS_URL: redis.url, TESSERA_TOKEN_MODE: 'jwt' };
      const server = await startBenchServer('guard-node.ts', env, profileArgs);
      try {
        load = await runLoad({
          name: 'node:http + guard (jwt, feed)',
          url: `http://127.0.0.1:${server.port}/`,
          headers: { authorization: `Bearer ${accessToken}` },
          durationSec: seconds,
          cpu: server.cpu,
        });
      } finally {
        await server.stop();
      }
    } finally {
      await auth.stop();
    }
  } else if (target === 'bare-fastify' || target === 'raw-node') {
    const server = await startBenchServer(`${target}.ts`, {}, profileArgs);
    try {
      load = await runLoad({
        name: target,
        url: `http://127.0.0.1:${server.port}/whoami`,
        durationSec: seconds,
        cpu: server.cpu,
      });
    } finally {
      await server.stop();
    }
  } else {
    throw new Error(
      `unknown target ${target}: authorize, login, refresh, fastify-argon2, fastify-sign-script, guard-node, bare-fastify or raw-node`,
    );
  }
} finally {
  await redis.stop();
}
const files = readdirSync(dir).filter((f) => f.endsWith('.cpuprofile'));
// One profile per thread (tsx runs its loader in a worker): the busiest one is the server's.
const candidates = files.map((f) => ({
  file: join(dir, f),
  summary: summariseProfile(join(dir, f), WATCH, { lastMs: seconds * 1000 }),
}));
const busiest = candidates.sort((a, b) => b.summary.busyMs - a.summary.busyMs)[0];
if (!busiest) throw new Error(`no profile written in ${dir}`);
const { file, summary } = busiest;
console.log(
  `  ${load.name}: ${load.requestsPerSec} req/s, p99 ${load.latencyP99Ms} ms, server CPU ${load.serverCpuUsPerRequest} µs/req`,
);
console.log('  top self time (share of busy samples):');
for (const f of summary.topSelf)
  console.log(`    ${String(f.selfPct).padStart(5)} %  ${f.frame}  [${f.owner}]`);
console.log('  by owner:');
for (const o of summary.owners.slice(0, 12))
  console.log(`    ${String(o.selfPct).padStart(5)} %  ${o.owner}`);
console.log('  inclusive:');
for (const w of summary.inclusive) console.log(`    ${String(w.pct).padStart(5)} %  ${w.frame}`);
writeResult(`profile-${target}-${label}`, { target, label, seconds, load, profile: file, summary });
console.log(`  profile: ${file}`);
