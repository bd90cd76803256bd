// Cost as the work grows. Redis is filled with 1k, 100k and 1M live sessions (real layout,
// copied from a session the auth service made, bench/lib/populate.ts); at each level:
// - guarded requests/s and p99 on node:http: opaque mode with the feed (lookup cached after
//   first sight), opaque mode with TESSERA_REVOCATION_CHECK=request (one Redis lookup per
//   request), both over a pool of 1,000 session tokens of the population; jwt mode (one token);
// - at the smallest and largest level: login and refresh p99 through HTTP;
// - Redis used_memory.
// Then 0, 10k and 100k revoked sessions outstanding in the revocation stream: a fresh guard's
// ready time (createGuard → ready) and RSS after load, and its req/s and p99 (jwt mode).
// Levels: BENCH_SCALE_SESSIONS (default 1000,100000,1000000), BENCH_SCALE_REVOKED
// (default 0,10000,100000).
//
// Each guarded series is a fresh guard process warmed for 3 s (a just-started guard runs at a
// fraction of its speed for its first seconds while V8 compiles its hot paths, longest right
// after a large fill), then BENCH_SCALE_ROUNDS (3) rounds of BENCH_DURATION ÷ 2 s; the round
// with the median p99 is reported, and the server CPU per request over all rounds (the figure
// a loaded 2-core machine disturbs least). Growth is given for both p99 and CPU per request.
// Each revoked level starts 3 fresh guards: ready time and RSS are their medians.

import { startRedis } from '@tessera/testkit';
import autocannon from 'autocannon';
import { loadLogins, loadRefreshes } from './auth.bench.ts';
import { type BenchServer, type LoadResult, runLoad, startBenchServer } from './lib/load.ts';
import { addRevocations, addSessions, readTemplate, redisMemory } from './lib/populate.ts';
import { addUser, BENCH_PASSWORD, loginUser, startAuthService } from './lib/stack.ts';

const levels = (name: string, fallback: string) =>
  (process.env[name] ?? fallback)
    .split(',')
    .map(Number)
    .filter((n) => Number.isFinite(n) && n >= 0);
const SESSIONS = levels('BENCH_SCALE_SESSIONS', '1000,100000,1000000');
const REVOKED = levels('BENCH_SCALE_REVOKED', '0,10000,100000');
const POOL = 1000;
const ROUNDS = Math.max(1, Number(process.env.BENCH_SCALE_ROUNDS ?? 3));
const WARMUP_S = 3;
const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? 0;
/** A current desktop Chrome's User-Agent (what the template session is logged in with). */
export const CHROME_UA =
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36';

/** Loads `url` with the tokens taken in turn (each connection's next request takes the next token). */
async function loadPool(
  name: string,
  server: BenchServer,
  tokens: string[],
): Promise<LoadResult & { roundsP99Ms: number[]; roundsRequestsPerSec: number[] }> {
  let next = 0;
  const options: autocannon.Options = {
    url: `http://127.0.0.1:${server.port}/`,
    connections: 50,
    requests: [
      {
        setupRequest: (request) => ({
          ...request,
          headers: { ...request.headers, authorization: `Bearer ${tokens[next++ % tokens.length]}` },
        }),
      },
    ],
  };
  await autocannon({ ...options, duration: WARMUP_S });
  const cpu0 = await server.cpu();
  const duration = Math.max(1, Math.round(Number(process.env.BENCH_DURATION ?? 5) / 2));
  const rounds: autocannon.Result[] = [];
  for (let i = 0; i < ROUNDS; i++) rounds.push(await autocannon({ ...options, duration }));
  const cpu = (await server.cpu()) - cpu0;
  const completed = rounds.reduce((sum, r) => sum + r.requests.total, 0);
  const byP99 = [...rounds].sort((a, b) => a.latency.p99 - b.latency.p99);
  const result = byP99[Math.floor(byP99.length / 2)] as autocannon.Result;
  return {
    name,
    requestsPerSec: Math.round(result.requests.average),
    latencyP50Ms: result.latency.p50,
    latencyP99Ms: result.latency.p99,
    serverCpuUsPerRequest: completed > 0 ? Math.round((cpu / completed) * 10) / 10 : 0,
    requests: completed,
    non2xx: rounds.reduce((sum, r) => sum + r.non2xx, 0),
    errors: rounds.reduce((sum, r) => sum + r.errors + r.timeouts, 0),
    roundsP99Ms: rounds.map((r) => r.latency.p99),
    roundsRequestsPerSec: rounds.map((r) => Math.round(r.requests.average)),
  };
}

function print(prefix: string, r: LoadResult): void {
  console.log(
    `  ${prefix.padEnd(14)} ${r.name.padEnd(44)} ${String(r.requestsPerSec).padStart(7)} req/s  p99 ${r.latencyP99Ms} ms  ${r.serverCpuUsPerRequest} µs CPU/req  non2xx ${r.non2xx}`,
  );
}

export async function runScaleBench() {
  const redis = await startRedis();
  const jwtAuth = await startAuthService(redis);
  const opaqueAuth = await startAuthService(redis, { TESSERA_TOKEN_MODE: 'opaque' });
  try {
    const names = Array.from({ length: 50 }, (_, i) => `bench${i}`);
    for (const name of names) await addUser(jwtAuth.url, name, ['user']);
    await addUser(opaqueAuth.url, 'alice', ['user']);
    const login = await fetch(`${opaqueAuth.url}/v1/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'user-agent': CHROME_UA },
      body: JSON.stringify({ username: 'alice', password: BENCH_PASSWORD }),
    });
    const template = await readTemplate(
      redis.url,
      ((await login.json()) as { session: { id: string } }).session.id,
    );
    const jwtToken = (await loginUser(jwtAuth.url, names[0] as string)).accessToken;
    const guardEnv = (mode: 'jwt' | 'opaque', check: 'feed' | 'request') => ({
      TESSERA_AUTH_URL: mode === 'jwt' ? jwtAuth.url : opaqueAuth.url,
      TESSERA_REDIS_URL: redis.url,
      TESSERA_TOKEN_MODE: mode,
      TESSERA_REVOCATION_CHECK: check,
    });

    let loaded = 0;
    let pool: string[] = [];
    const sessionLevels: Array<{
      sessions: number;
      fillSeconds: number;
      redis: { usedMemory: number; keys: number };
      guarded: LoadResult[];
      auth?: {
        login: Awaited<ReturnType<typeof loadLogins>>;
        refresh: Awaited<ReturnType<typeof loadRefreshes>>;
      };
    }> = [];
    for (const [i, level] of SESSIONS.entries()) {
      const t0 = performance.now();
      const kept = await addSessions(redis.url, template, loaded, level, pool.length === 0 ? POOL : 0);
      if (pool.length === 0) pool = kept;
      loaded = Math.max(loaded, level);
      const fillSeconds = Math.round((performance.now() - t0) / 100) / 10;
      // A pause after a large fill (Redis finishes rehashing its grown dictionaries in the
      // background; the loader's client goes away) before anything is measured.
      await new Promise((resolve) => setTimeout(resolve, 3000));
      const memory = await redisMemory(redis.url);
      console.log(`  ${level} sessions loaded in ${fillSeconds} s; Redis used_memory ${memory.usedMemory} B`);
      const label = `${level} sessions`;
      const guarded: LoadResult[] = [];
      for (const [name, env, tokens] of [
        ['opaque, feed (cached lookups)', guardEnv('opaque', 'feed'), pool],
        ['opaque, one Redis lookup per request', guardEnv('opaque', 'request'), pool],
        ['jwt, feed', guardEnv('jwt', 'feed'), [jwtToken]],
      ] as const) {
        const server = await startBenchServer('guard-node.ts', env);
        try {
          const result = await loadPool(`node:http + guard (${name})`, server, [...tokens]);
          print(label, result);
          guarded.push(result);
        } finally {
          await server.stop();
        }
      }
      const edge = i === 0 || i === SESSIONS.length - 1;
      const auth = edge
        ? {
            login: await loadLogins(jwtAuth.url, names, jwtAuth.cpuUs),
            refresh: await loadRefreshes(jwtAuth.url, names, jwtAuth.cpuUs),
          }
        : undefined;
      if (auth) {
        console.log(
          `  ${label.padEnd(14)} login p99 ${auth.login.latencyP99Ms} ms (${auth.login.perSec}/s), refresh p99 ${auth.refresh.latencyP99Ms} ms (${auth.refresh.perSec}/s)`,
        );
      }
      sessionLevels.push({ sessions: level, fillSeconds, redis: memory, guarded, ...(auth ? { auth } : {}) });
    }

    let revokedSoFar = 0;
    const revokedLevels = [];
    // The login and refresh loads just before leave the auth service draining work: settle first.
    await new Promise((resolve) => setTimeout(resolve, 3000));
    for (const level of REVOKED) {
      await addRevocations(redis.url, revokedSoFar, level);
      revokedSoFar = Math.max(revokedSoFar, level);
      const readyAll: number[] = [];
      const rssAll: number[] = [];
      for (let i = 0; i < 2; i++) {
        const probe = await startBenchServer('guard-node.ts', guardEnv('jwt', 'feed'));
        readyAll.push(Math.round(Number(probe.info.readyMs) * 10) / 10);
        rssAll.push(await probe.rss());
        await probe.stop();
      }
      const server = await startBenchServer('guard-node.ts', guardEnv('jwt', 'feed'));
      try {
        readyAll.push(Math.round(Number(server.info.readyMs) * 10) / 10);
        rssAll.push(await server.rss());
        const readyMs = median(readyAll);
        const rssAtReady = median(rssAll);
        const result = await runLoad({
          name: 'node:http + guard (jwt, feed)',
          url: `http://127.0.0.1:${server.port}/`,
          headers: { authorization: `Bearer ${jwtToken}` },
          cpu: server.cpu,
        });
        const rss = await server.rss();
        print(`${level} revoked`, result);
        console.log(
          `  ${`${level} revoked`.padEnd(14)} guard ready in ${readyMs} ms (${readyAll.join(', ')}), RSS ${rssAtReady} B at ready (median of 3), ${rss} B after load`,
        );
        revokedLevels.push({
          revoked: level,
          readyMs,
          readyMsAll: readyAll,
          rssAtReadyBytes: rssAtReady,
          rssAtReadyBytesAll: rssAll,
          rssBytes: rss,
          load: result,
        });
      } finally {
        await server.stop();
      }
    }
    /** Largest ÷ smallest level's p99 per series (flat = within 1.2). */
    const growth = (series: number[]) => {
      const first = series[0] ?? 0;
      const last = series[series.length - 1] ?? 0;
      return first > 0 ? Math.round((last / first) * 100) / 100 : null;
    };
    const guardedP99Growth = ['opaque, feed', 'opaque, one Redis', 'jwt, feed'].map((needle) => ({
      series: needle,
      p99: sessionLevels.map((l) => l.guarded.find((g) => g.name.includes(needle))?.latencyP99Ms ?? 0),
    }));
    const edges = sessionLevels.filter((l) => l.auth);
    return {
      sessionLevels,
      revokedLevels,
      growth: {
        guardedP99: guardedP99Growth.map((g) => ({ series: g.series, p99: g.p99, growth: growth(g.p99) })),
        guardedCpuUsPerRequest: guardedP99Growth.map(({ series }) => {
          const cpu = sessionLevels.map(
            (l) => l.guarded.find((g) => g.name.includes(series))?.serverCpuUsPerRequest ?? 0,
          );
          return { series, cpuUsPerRequest: cpu, growth: growth(cpu) };
        }),
        loginP99: growth(edges.map((l) => l.auth?.login.latencyP99Ms ?? 0)),
        refreshP99: growth(edges.map((l) => l.auth?.refresh.latencyP99Ms ?? 0)),
        revokedP99: growth(revokedLevels.map((l) => l.load.latencyP99Ms)),
        revokedCpuUsPerRequest: growth(revokedLevels.map((l) => l.load.serverCpuUsPerRequest)),
      },
    };
  } finally {
    await jwtAuth.stop();
    await opaqueAuth.stop();
    await redis.stop();
  }
}
