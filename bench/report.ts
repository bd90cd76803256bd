// Regenerates docs/performance.md from bench/results/*.json.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { writeCharts } from './charts.ts';
import { RESULTS_DIR, ratio } from './lib/results.ts';

type Json = Record<string, unknown>;

function load(name: string): Json | null {
  const url = new URL(`${name}.json`, RESULTS_DIR);
  return existsSync(url) ? (JSON.parse(readFileSync(url, 'utf8')) as Json) : null;
}

function table(headers: string[], rows: Array<Array<string | number>>): string {
  return [
    `| ${headers.join(' | ')} |`,
    `| ${headers.map(() => '---').join(' | ')} |`,
    ...rows.map((r) => `| ${r.join(' | ')} |`),
  ].join('\n');
}

function header(result: Json | null): string {
  if (!result) return '_not measured yet: run `npm run bench`_';
  const m = result.machine as Json;
  const measured = `_measured ${String(result.date)} on ${String(m.cpus)} × ${String(m.cpuModel)}, Node ${String(m.node)}_`;
  return result.validation
    ? `${measured}\n\n**Short validation run on a loaded machine (${String(result.validation)}): it shows that the benchmark works, not how fast anything is. Rerun \`npm run bench\` on a quiet machine.**`
    : measured;
}

type Section = (result: Json | null) => string;
const sections: Array<[string, string, Section]> = [];

/** Registers a section of docs/performance.md rendered from `bench/results/<name>.json`. */
export function registerSection(name: string, title: string, render: Section): void {
  sections.push([name, title, render]);
}

registerSection('core', 'Core: token signing/verification and session operations', (r) => {
  const rows = ((r?.results as Json[]) ?? []).map((x) => [
    String(x.name),
    Number(x.opsPerSec),
    Number(x.meanLatencyUs),
    Number(x.concurrency ?? 1),
  ]);
  return [
    'Session operations go through the session service (one store call each: one Lua script on Redis).',
    '',
    table(['operation', 'ops/s', 'mean µs', 'in flight'], rows),
  ].join('\n');
});

registerSection('auth', 'Auth service: logins and refreshes through HTTP', (r) => {
  if (!r) return '';
  const login = r.login as Json;
  const refresh = r.refresh as Json;
  const row = (m: Json | undefined, base: Json | undefined) =>
    m && base
      ? [
          String(m.name),
          Number(m.perSec),
          String(base.name),
          Number(base.perSec),
          ratio(Number(m.perSec), Number(base.perSec)),
          m.latencyP99Ms === undefined ? '' : Number(m.latencyP99Ms),
          base.latencyP99Ms === undefined ? '' : Number(base.latencyP99Ms),
        ]
      : [];
  return [
    'The goals compare with bare Fastify servers doing the minimum through HTTP too',
    '(bench/servers/fastify-argon2.ts: one argon2id verify per POST with the same parameters and',
    'libuv pool size; bench/servers/fastify-sign-script.ts: one EdDSA sign + one Redis script call',
    'per POST), same connections; the bare loops (no HTTP) are kept as reference.',
    '',
    table(
      ['measured', 'per s', 'baseline (same run)', 'per s', 'ratio', 'p99 ms', 'baseline p99 ms'],
      [
        row(login.service as Json, login.baseline as Json),
        row(login.service as Json, login.loop as Json | undefined),
        row(refresh.service as Json, refresh.baseline as Json),
        row(refresh.service as Json, refresh.loop as Json | undefined),
        row(refresh.engine as Json, refresh.loop as Json | undefined),
      ].filter((x) => x.length > 0),
    ),
    '',
    'argon2id (m=19 MiB, t=2, p=1) dominates a login; a refresh is one EdDSA signature, one Lua',
    'script call and the rotation crypto (SHA-256 of two secrets, HKDF + AES-256-GCM sealing of the',
    "successor). Keycloak's published sizing is 120 refreshes/s per vCPU.",
  ].join('\n');
});

registerSection('http', 'HTTP: baselines and guarded services (autocannon -c 50)', (r) => {
  const rows = ((r?.results as Json[]) ?? []).map((x) => [
    String(x.name),
    Number(x.requestsPerSec),
    Number(x.ratioToRaw),
    Number(x.serverCpuUsPerRequest),
    Number(x.latencyP99Ms),
  ]);
  return table(['scenario', 'req/s', '× raw node:http', 'server CPU µs/req', 'p99 ms'], rows);
});

registerSection('guard', 'Guard: guarded services vs their baselines (autocannon -c 50)', (r) => {
  if (!r) return '';
  const rows = ((r.rows as Json[]) ?? []).map((x) => [
    String(x.name),
    Number(x.requestsPerSec),
    String(x.baseline),
    Number(x.ratio),
    Array.isArray(x.ratioRange) ? `${x.ratioRange[0]}–${x.ratioRange[1]}` : '',
    Number(x.serverCpuUsPerRequest),
    Number(x.latencyP99Ms),
  ]);
  const base = ((r.baselines as Json[]) ?? []).map((x) => [
    String(x.name),
    Number(x.requestsPerSec),
    Number(x.serverCpuUsPerRequest),
  ]);
  const cold = (r.cold as Json) ?? {};
  return [
    `Each scenario ran once per round, ${String(r.rounds ?? 1)} rounds; req/s, CPU and latency are medians, the ratio is the median of the per-round ratios (range beside it).`,
    '',
    table(
      [
        'guarded service',
        'req/s',
        'baseline (same run)',
        'ratio',
        'ratio range',
        'server CPU µs/req',
        'p99 ms',
      ],
      rows,
    ),
    '',
    table(['baseline', 'req/s', 'server CPU µs/req'], base),
    '',
    `Cold token (first sight, in-process): ${String(cold.coldUs)} µs per authenticate vs ${String(cold.joseVerifyPlusHashUs)} µs for jose.jwtVerify + SHA-256 (ratio ${String(cold.coldRatio)}); the same tokens warm: ${String(cold.warmUs)} µs.`,
  ].join('\n');
});

registerSection('revocation', 'Global revocation latency and guard restart', (r) => {
  if (!r) return '';
  const latency = r.latency as Json;
  const restart = r.restart as Json;
  return [
    'Latency: time from the `POST /v1/logout` response until **both** example services (orders on',
    'Express, profile on Fastify; jwt mode, revocation feed) answer 401 for the session; each trial',
    "logs in, warms both services' caches with the token, logs out and polls both services.",
    '',
    table(
      ['trials', 'p50 ms', 'p99 ms', 'max ms', 'goal p99', 'floor'],
      [
        [
          Number(latency.trials),
          Number(latency.p50Ms),
          Number(latency.p99Ms),
          Number(latency.maxMs),
          '≤ 5 ms (p50 ≤ 1 ms)',
          '50 ms',
        ],
      ],
    ),
    '',
    ...breakdownLines(r.breakdown as Json | undefined),
    'Guard restart: a new guard process with the revocation stream holding this many live entries,',
    'time from `createGuard()` to `ready()` (median of 3) and heap per revoked session (the heap',
    "growth minus that of a guard started on the nearly empty stream: the guard's own fixed heap",
    restart.guardHeapBytes === undefined
      ? 'is not subtracted in this result).'
      : `of ${(Number(restart.guardHeapBytes) / 1e6).toFixed(1)} MB is not counted).`,
    '',
    table(
      ['revoked sessions', 'ready in ms', 'bytes per revoked session', 'goal'],
      [
        [
          Number(restart.revokedEntries),
          Number(restart.readyMsMedianOf3),
          Number(restart.bytesPerRevokedSession),
          '< 1000 ms',
        ],
      ],
    ),
  ].join('\n');
});

function breakdownLines(breakdown: Json | undefined): string[] {
  if (!breakdown) return [];
  const step = (name: string, key: string) => {
    const v = (breakdown[key] as Json | undefined) ?? {};
    return [name, Number(v.p50Ms), Number(v.p99Ms)];
  };
  return [
    'Where the time goes, each step in ms from the moment the logout request is sent (p50 / p99',
    'over the trials). The revocation script appends to the stream before the logout answer is',
    'written, so the feed usually wakes before the client has read the answer; what the latency',
    'measures after the answer is mostly one HTTP request to each service (the first poll already',
    'gets the 401 when "polls per trial" is 2, one per service).',
    '',
    table(
      ['step', 'p50 ms', 'p99 ms'],
      [
        step('logout answer read by the client', 'logoutResponse'),
        step("stream entry's id time (auth service clock, 1 ms resolution)", 'entryStamp'),
        step('a blocked XREAD (as the feed does) wakes with the entry', 'probeWake'),
        step("an in-process guard's revocation set refuses the token", 'guardSetUpdated'),
        step('both services answered 401 over HTTP', 'servicesRefused'),
        step('HTTP polls per trial (both services)', 'pollsPerTrial'),
      ],
    ),
    '',
    '![Revocation latency distribution](charts/revocation-latency.svg)',
    '',
  ];
}

registerSection(
  'tracking',
  'Opaque mode: RESP3 client-side caching vs the feed-invalidated lookup cache',
  (r) => {
    if (!r) return '';
    const lookups = ((r.lookups as Json[]) ?? []).map((x) => [
      String(x.name),
      Number(x.latencyUs),
      Number(x.cpuUs),
      Number(x.roundTrips),
    ]);
    const invalidation = ((r.invalidation as Json[]) ?? []).map((x) => [
      String(x.name),
      Number(x.trials),
      Number(x.p50Ms),
      Number(x.p99Ms),
      Number(x.maxMs),
      `${Number(x.staleReadsAfterAck)} (${Number(x.trialsWithStaleRead)} trials)`,
    ]);
    return [
      'One session lookup (HGETALL of a real session hash), sequential, against a private Redis;',
      'the guard row is a whole `authenticate` on a cached lookup (hash and revocation set included).',
      '',
      table(['lookup', 'µs per lookup', 'client CPU µs', 'round trips'], lookups),
      '',
      'Invalidation delay: from issuing the write (another connection) until a cached read (one per',
      'event-loop turn) sees it; "stale reads" are cached reads issued after the write was',
      'acknowledged that still returned the old value.',
      '',
      table(
        ['write → cached read', 'trials', 'p50 ms', 'p99 ms', 'max ms', 'stale reads after ack'],
        invalidation,
      ),
    ].join('\n');
  },
);

function ratioTable(rows: Json[]): string {
  return table(
    ['measured', 'req/s', 'baseline (same run)', 'ratio', 'ratio range', 'server CPU µs/req', 'p99 ms'],
    rows.map((x) => [
      String(x.name),
      Number(x.requestsPerSec),
      String(x.baseline),
      Number(x.ratio),
      Array.isArray(x.ratioRange) ? `${x.ratioRange[0]}–${x.ratioRange[1]}` : '',
      Number(x.serverCpuUsPerRequest),
      Number(x.latencyP99Ms),
    ]),
  );
}

registerSection('peers', 'Against what a team would pick instead, and the gateway path', (r) => {
  if (!r) return '';
  const scenarios = ((r.scenarios as Json[]) ?? []).map((x) => [
    String(x.name),
    Number(x.requestsPerSec),
    Number(x.serverCpuUsPerRequest),
    Number(x.latencyP99Ms),
    Number(x.non2xx),
  ]);
  return [
    'Each server in its own process, the same route (`GET /whoami` answering a JSON principal;',
    "the auth service's `GET /v1/authorize` answering 200 with the identity headers), the same",
    `load (autocannon -c 50), alternating rounds (${String(r.rounds ?? 1)} in this run); ratios are medians of per-round ratios.`,
    '',
    '**Tessera checks revocation on every request (a revoked session is refused within',
    'milliseconds); none of the peers does.** express-jwt and a bare `jose` verify accept a',
    'token until it expires; express-session and Better Auth read Redis on every request (counted',
    'with `INFO commandstats`: express-session one GET and one EXPIRE, its touch; Better Auth',
    '`getSession` two GETs), so they see a deleted session at the next read but announce nothing',
    'to other services. express-jwt goes through jsonwebtoken, which',
    'cannot verify EdDSA: it is compared on RS256 (the auth service run with',
    '`TESSERA_SIGNING_ALG=RS256`, the guard on the same tokens). Better Auth 1.x runs on Node 20',
    '(`better-auth@^1.7`, `@better-auth/redis-storage@^1.7`, memory adapter for users).',
    '',
    ratioTable((r.rows as Json[]) ?? []),
    '',
    table(['server', 'req/s', 'server CPU µs/req', 'p99 ms', 'non-2xx'], scenarios),
    '',
    '![Throughput vs peers and baselines](charts/throughput.svg)',
  ].join('\n');
});

function profileTable(result: Json | null): string {
  if (!result) return '_not profiled yet: `npm run bench:profile -- <target> <label>`_';
  const summary = result.summary as Json;
  const load = result.load as Json;
  const top = ((summary.topSelf as Json[]) ?? [])
    .slice(0, 12)
    .map((f) => [`\`${String(f.frame)}\``, String(f.owner), Number(f.selfPct)]);
  const owners = ((summary.owners as Json[]) ?? [])
    .slice(0, 8)
    .map((o) => `${String(o.owner)} ${Number(o.selfPct)} %`)
    .join(', ');
  // `onSend` is left out: Fastify writes the answer from inside it, so its subtree holds the
  // socket write too and says nothing about the hook's own cost.
  const inclusive = ((summary.inclusive as Json[]) ?? [])
    .filter((w) => Number(w.pct) > 0 && w.frame !== 'onSend')
    .map((w) => `\`${String(w.frame)}\` ${Number(w.pct)} %`)
    .join(', ');
  return [
    `${String(load.requestsPerSec)} req/s, server CPU ${String(load.serverCpuUsPerRequest)} µs/req during the profile (${String(result.date)}).`,
    '',
    table(['top self-time frame', 'owner', '% of busy samples'], top),
    '',
    `By owner: ${owners}.`,
    inclusive ? `Inclusive: ${inclusive}.` : '',
  ].join('\n');
}

registerSection('profile-authorize-after', 'The gateway path: GET /v1/authorize profiled', () => {
  const before = load('profile-authorize-before');
  const after = load('profile-authorize-after');
  const fastify = load('profile-bare-fastify-before');
  return [
    '`npm run bench:profile -- authorize <label>`: `node --cpu-prof` of the auth service answering',
    '`GET /v1/authorize` under autocannon -c 50 (EdDSA bearer token, the default LOG_LEVEL=info,',
    'stdout to /dev/null), samples of the load window only. Frame weights are shares of the busy',
    'samples, so they stay meaningful on a loaded machine where req/s do not.',
    '',
    'What was ours and avoidable (before): the request log line (pino: `LOG`, `isoTime`,',
    '`asJson`, and the `write` of sonic-boom; together ≈ 13 % of the busy samples), a pino child',
    'logger per request (`createChildLogger` ≈ 2 %), and promise hops of async `onSend` /',
    '`onResponse` hooks. Changes (packages/server/src/app.ts): successful `/v1/authorize`',
    'answers are logged at `debug` (refusals and every other request still at `info`; the',
    'histogram still counts them), no per-request child logger (`reqId` is written by the two',
    'request-scoped lines themselves), callback hooks. What remains is mostly the socket write',
    '(`writeLatin1String`/`writev`, the kernel sending on loopback: every server pays it, see',
    'bare Fastify below), Fastify itself, the Prometheus histogram (`observe`, ≈ 4 %, kept: users',
    'need the latency metric) and the guard (SHA-256 cache key of the token, ≈ 3–4 %).',
    '',
    'Then, found with `perf` (cpu-clock samples, on-CPU time only) on the quiet machine:',
    '`/v1/authorize` answers a cached token in the same tick (no promise of ours; the route',
    'wrapper no longer awaits an authentication it does not do), the duplicate-`Authorization`',
    "check scans `rawHeaders` instead of building Node's `headersDistinct` object per request,",
    'the CSRF check returns before building its input for a bearer or safe request and parses',
    'the allowed origins once, and `tesseraUser` is a request decoration (setting it had changed',
    "each request object's shape: `MigrateToMap`). Server CPU per request in the peers suite:",
    '20.8 → 17.4–19.6 µs. A Fastify stub that receives the same bearer header and sends the same',
    'identity headers (peers table) is faster than bare Fastify: the exchange itself is not the gap.',
    '',
    '### Before',
    '',
    profileTable(before),
    '',
    '### After',
    '',
    profileTable(after),
    '',
    '### Bare Fastify under the same load (what every Fastify server pays)',
    '',
    profileTable(fastify),
  ].join('\n');
});

registerSection('profile-guard-node-before', 'The node:http guard profiled', (r) => {
  const raw = load('profile-raw-node-before');
  const after = load('profile-guard-node-after');
  return [
    '`npm run bench:profile -- guard-node`: bench/servers/guard-node.ts (jwt mode, feed, one',
    "cached token). The guard's own frames are small: `authenticate` (inclusive, the SHA-256",
    'cache key of the token is most of it: `hash`), `credentialFrom` (the bearer regex) and the',
    'LRU `get`; the rest is node:http and the socket write, as for raw node:http. The cache key',
    'hash is a design choice (no token string kept in memory maps, `cacheKey` in',
    "packages/guard/src/guard.ts): it is core's one-shot `hashToken` (`crypto.hash`). The",
    'restructure of issue 8 had replaced it by a `createHash().update().digest()` chain, which',
    "cost about a third more per request in-process (the node adapter's synchronous path on a",
    'cached token: 1.55–1.78 µs against 1.03–1.20 µs before it, 1.13–1.17 µs once `hashToken`',
    'was back). The first profile below was taken before the guard became a pipeline, so its',
    'frame names are those of that code.',
    '',
    '### Before',
    '',
    profileTable(r),
    ...(after ? ['', '### After (the pipeline, `hashToken` back)', '', profileTable(after)] : []),
    '',
    '### Raw node:http under the same load',
    '',
    profileTable(raw),
  ].join('\n');
});

registerSection('profile-refresh-after', 'Login and refresh profiled', () => {
  const sections: Array<[string, string]> = [
    ['profile-login-before', 'Login, before'],
    ['profile-login-after', 'Login, after'],
    ['profile-fastify-argon2-before', 'Bare Fastify + argon2id under the same load'],
    ['profile-refresh-before', 'Refresh, before'],
    ['profile-refresh-after', 'Refresh, after'],
    ['profile-fastify-sign-script-before', 'Bare Fastify + EdDSA sign + one script under the same load'],
  ];
  return [
    '`npm run bench:profile -- login|refresh <label>`: `node --cpu-prof` of the auth service under',
    "the auth suite's loads (`POST /v1/login` from 8 connections over 50 users; `POST /v1/refresh`",
    'from 50 connections rotating their tokens; LOG_LEVEL=silent as in the suite);',
    '`fastify-argon2` and `fastify-sign-script` profile the two baselines the same way. A login',
    "profile is the main thread only: argon2 runs on libuv's pool, and on 2 cores every",
    'main-thread (and redis-server) µs of a login is taken from it; its shares are wall-clock',
    'samples, so a thread preempted by the argon2 threads inside a syscall weighs that syscall more.',
    '',
    'What was ours and avoidable in a login: Redis round trips. It made 7 script calls (3',
    'throttle windows hit, 3 taken back, the session created), each its own socket write',
    "(`writeUtf8String`: the kernel sending on loopback, the login profile's top frame); now the",
    'three windows are one `rate-limits` call and are taken back in one (3 calls, same atomic',
    'reservation before the password check), and `create.lua` no longer reads every other',
    'session of the user under `allow` when the index has room. ioredis auto-pipelining was',
    'tried and dropped: it lowered the refresh ratio by ≈ 0.05 in 4 of 4 paired runs (a',
    'refresh is one command; the pipeline adds a loop turn and its own objects). A refresh does',
    'what its baseline does plus work users need: the rotation crypto (`hkdfSync` + AES-GCM',
    'sealing of the successor, the design §3 grace path), the larger answer (the session view),',
    'the rotate script (reuse detection, older generations) and the user-exists check.',
    ...sections.flatMap(([name, title]) => ['', `### ${title}`, '', profileTable(load(name))]),
  ].join('\n');
});

registerSection(
  'scale',
  'Cost as the work grows: sessions in Redis and revoked sessions outstanding',
  (r) => {
    if (!r) return '';
    const levels = (r.sessionLevels as Json[]) ?? [];
    const names = ((levels[0]?.guarded as Json[]) ?? []).map((g) => String(g.name));
    const guardRows = levels.map((l) => [
      Number(l.sessions),
      ...((l.guarded as Json[]) ?? []).map(
        (g) =>
          `${Number(g.requestsPerSec)} / ${Number(g.latencyP99Ms)}${g.serverCpuUsPerRequest === undefined ? '' : ` (${Number(g.serverCpuUsPerRequest)} µs)`}`,
      ),
      Math.round(Number((l.redis as Json).usedMemory) / 1e6),
      Number(l.fillSeconds),
    ]);
    const authRows = levels
      .filter((l) => l.auth)
      .map((l) => {
        const auth = l.auth as Json;
        const login = auth.login as Json;
        const refresh = auth.refresh as Json;
        return [
          Number(l.sessions),
          Number(login.perSec),
          Number(login.latencyP99Ms),
          Number(refresh.perSec),
          Number(refresh.latencyP99Ms),
        ];
      });
    const revokedRows = ((r.revokedLevels as Json[]) ?? []).map((l) => {
      const load = l.load as Json;
      return [
        Number(l.revoked),
        Number(l.readyMs),
        Math.round(Number(l.rssAtReadyBytes) / 1e6),
        Math.round(Number(l.rssBytes) / 1e6),
        Number(load.requestsPerSec),
        Number(load.latencyP99Ms),
      ];
    });
    const first = levels[0];
    const last = levels[levels.length - 1];
    const perSession =
      first && last && Number(last.sessions) > Number(first.sessions)
        ? Math.round(
            (Number((last.redis as Json).usedMemory) - Number((first.redis as Json).usedMemory)) /
              (Number(last.sessions) - Number(first.sessions)),
          )
        : undefined;
    return [
      'Redis filled with live sessions in the real layout (a session made by the auth service with a',
      'desktop Chrome User-Agent, copied by a Lua bulk loader: bench/lib/populate.ts), one user each.',
      'Guarded load on node:http over a pool of 1,000 of those sessions (opaque) or one token (jwt).',
      'Each guarded series starts a fresh guard, warms it for 3 s (V8 compiles the hot path in the',
      "first seconds: measured without it, a fresh guard's first second reads as a collapse), then",
      'runs 3 rounds; the round with the median p99 is shown, with server CPU per request over all',
      'rounds in brackets (steadier than p99 on shared cores).',
      '',
      table(
        ['live sessions', ...names.map((n) => `${n} req/s / p99 ms (CPU µs/req)`), 'Redis used MB', 'fill s'],
        guardRows,
      ),
      '',
      perSession === undefined
        ? ''
        : `Redis used_memory per added session (dictionary overhead included): ${perSession} B.`,
      '',
      table(['live sessions', 'logins/s', 'login p99 ms', 'refreshes/s', 'refresh p99 ms'], authRows),
      '',
      'A fresh guard (node:http, jwt, feed) with this many revoked sessions outstanding on the stream:',
      '',
      table(['revoked', 'ready ms', 'RSS at ready MB', 'RSS after load MB', 'req/s', 'p99 ms'], revokedRows),
      '',
      '![p99 vs sessions](charts/p99-vs-sessions.svg)',
    ].join('\n');
  },
);

registerSection('memory', 'Memory per session in Redis over its life', (r) => {
  if (!r) return '';
  const rows = (points: Json[] | undefined) =>
    (points ?? []).map((p) => [
      String(p.point),
      Number(p.keyBytesPerSession),
      Number(p.hashBytesPerSession),
      Number(p.usedMemoryPerSession),
      Object.entries((p.encodings as Record<string, number>) ?? {})
        .map(([k, v]) => `${k} ${v}`)
        .join(', '),
      Object.entries((p.longFields as Record<string, number>) ?? {})
        .map(([k, v]) => `${k} (${v} B)`)
        .join(', ') || '—',
    ]);
  const headers = [
    'life point',
    'B/session, every key of the user',
    'of which the hash',
    'used_memory growth B/session',
    'hash encodings',
    'fields over hash-max-listpack-value',
  ];
  return [
    `${String(r.sessions)} sessions of ${String(r.users)} users (the per-user index is shared by`,
    "each user's sessions), logged in and refreshed through the auth service's HTTP API with real",
    'browser User-Agents (Chrome, Safari, Firefox, Edge on desktop; Safari on iPhone, Chrome on',
    "Android); the touch is the store's `touchSession` (the guard's script). `MEMORY USAGE` of every",
    'key holding a bench user id, per session; `used_memory` growth also counts the dictionary',
    'entries, client buffers and script cache, and is noisy with few sessions (the scale section',
    'has it at 1M sessions). A hash value longer than `hash-max-listpack-value` (64 B by default)',
    'turns the whole hash from a listpack into a hashtable, about twice the bytes.',
    '',
    '### Redis defaults, real User-Agents',
    '',
    table(headers, rows(r.defaults as Json[])),
    '',
    '### hash-max-listpack-value 512 (operator setting), real User-Agents',
    '',
    table(headers, rows(r.raised as Json[])),
    '',
    '### Redis defaults, User-Agent stored short ("Chrome 131 on Windows": what the account page shows)',
    '',
    table(headers, rows(r.shortUa as Json[])),
    '',
    'The `ua` field holds the User-Agent header in a lossless compact form (common browser tokens →',
    'one control byte each: 9–15 B for these headers, docs/redis-layout.md), so every session hash',
    'is a listpack under Redis defaults. Older refresh generations (`o:<sid>`) keep 16 characters',
    '(96 bits) of each hash. What remains above 400 B: the sealed successor `sc:<sid>` (328 B: an',
    '81-byte key and a 160-byte value) lives only for the grace window + 1 s after each refresh',
    '(on average 328 B × (grace + 1 s) ÷ the refresh interval, about 4 B at one refresh per 15',
    'minutes), and it must stay a key of its own so that Redis forgets it when the grace window',
    'ends; `o:<sid>` (184 B with 2 generations, 776 B at its cap of 32) and `ph`/`pt` in the hash',
    '(456 B instead of 360 B) are what refresh-reuse detection needs. After login the hash is',
    '360 B: the 80-byte key name alone costs 136 B (key, object, dictionary entry), and the next',
    'jemalloc size class down (192 B of listpack) needs 13 B less, which only a reader-visible',
    'change gives (dropping the `uid` field, which the key name already holds: 393 B after login).',
  ].join('\n');
});

registerSection('startup', 'Start-up: tsx vs compiled', (r) => {
  if (!r) return '';
  const rows = (r.results as Json[]) ?? [];
  const median = (service: string, mode: string, key: string) =>
    Number(rows.find((x) => x.service === service && x.mode === mode)?.[key] ?? 0);
  return [
    'From spawn to the first answer (auth service: `GET /healthz` 200; guarded service: its first',
    'HTTP answer, sent only after `guard.ready()`), and the resident memory (VmRSS) at that moment.',
    "`tsx` runs the packages' TypeScript sources (`--conditions=@tessera/source --import tsx`, what the",
    '`tessera` bin did before the build); `compiled` runs `dist/` with plain `node`. Median of',
    `${Number(r.runs)} alternating runs each (\`npm run bench -- startup\`)${
      r.loadAtStart === undefined
        ? ''
        : `; 1-minute load average at the start: ${Number(r.loadAtStart)} on 2 cores`
    }. On a busy machine the absolute times grow; compare the ratios.`,
    '',
    table(
      ['service', 'mode', 'start-up ms (median)', 'RSS MB (median)', 'all runs (ms)', 'command'],
      rows.map((x) => [
        String(x.service),
        String(x.mode),
        Number(x.startupMsMedian),
        Number(x.rssMbMedian),
        ((x.startupMs as number[]) ?? []).join(', '),
        `\`${String(x.command)}\``,
      ]),
    ),
    '',
    table(
      ['service', 'compiled ÷ tsx start-up', 'compiled ÷ tsx RSS'],
      ['auth', 'guarded'].map((service) => [
        service,
        ratio(median(service, 'compiled', 'startupMsMedian'), median(service, 'tsx', 'startupMsMedian')),
        ratio(median(service, 'compiled', 'rssMbMedian'), median(service, 'tsx', 'rssMbMedian')),
      ]),
    ),
  ].join('\n');
});

type Goal = [
  what: string,
  measured: number | undefined,
  goal: number,
  floor: number | undefined,
  higherIsBetter: boolean,
  /** Why a miss is missed (known cause), shown with the verdict. */
  why?: string | undefined,
];

/** Goals whose measurement comes from a short validation run (their verdict is not one). */
const fromValidation = new Set<string>();

function rowRatio(result: Json | null, name: string, baseline?: string): number | undefined {
  const row = ((result?.rows as Json[]) ?? []).find(
    (r) =>
      String(r.name).startsWith(name) && (baseline === undefined || String(r.baseline).startsWith(baseline)),
  );
  return row ? Number(row.ratio) : undefined;
}

/** The issues' goals next to what this run measured. */
function goalsSection(): string {
  const auth = load('auth');
  const guard = load('guard');
  const peers = load('peers');
  const scale = load('scale');
  const memory = load('memory');
  const revocation = load('revocation');
  const num = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);
  const login = auth?.login as Json | undefined;
  const refresh = auth?.refresh as Json | undefined;
  const latency = revocation?.latency as Json | undefined;
  const restart = revocation?.restart as Json | undefined;
  const cold = guard?.cold as Json | undefined;
  const growth = scale?.growth as Json | undefined;
  const cpuGrowth = new Map(
    ((growth?.guardedCpuUsPerRequest as Json[]) ?? []).map((g) => [String(g.series), num(g.growth)] as const),
  );
  const guardedGrowth = ((growth?.guardedP99 as Json[]) ?? []).map(
    (g) => [String(g.series), g.growth, cpuGrowth.get(String(g.series))] as const,
  );
  const revoked100k = ((scale?.revokedLevels as Json[]) ?? []).find((l) => Number(l.revoked) === 100_000);
  const memoryPoints = (memory?.defaults as Json[] | undefined) ?? [];
  const worstMemory = memoryPoints.reduce<Json | undefined>(
    (worst, p) => (!worst || Number(p.keyBytesPerSession) > Number(worst.keyBytesPerSession) ? p : worst),
    undefined,
  );
  const authorizeVsStub = rowRatio(peers, 'auth service GET /v1/authorize', 'Fastify stub');
  const goals: Goal[] = [
    [
      'Express + guard (jwt, RS256) ÷ express-jwt + jwks-rsa (RS256)',
      rowRatio(peers, 'Express + Tessera guard (jwt, RS256)', 'Express + express-jwt'),
      2,
      undefined,
      true,
    ],
    [
      'Express + guard (opaque) ÷ express-session + connect-redis',
      rowRatio(peers, 'Express + Tessera guard (opaque)', 'express-session'),
      1.35,
      undefined,
      true,
    ],
    [
      'GET /v1/authorize (EdDSA) ÷ bare Fastify',
      rowRatio(peers, 'auth service GET /v1/authorize', 'bare Fastify'),
      0.8,
      undefined,
      true,
      [
        'bare Fastify gets no header and answers small JSON; /v1/authorize reads a 600-byte bearer token and answers seven headers',
        authorizeVsStub === undefined
          ? ''
          : `against a Fastify stub that gets the same header and sends the same identity headers (no verification, hooks, log or metrics) it is ${authorizeVsStub}`,
        'what is left is the request id, the nosniff header, the cookie plugin, the latency histogram and the guard (SHA-256 cache key, LRU, revocation set); see the profile section',
      ]
        .filter(Boolean)
        .join('; '),
    ],
    [
      'node:http + guard (jwt) ÷ raw node:http',
      rowRatio(guard, 'node:http + guard (jwt', 'raw node:http'),
      0.8,
      0.5,
      true,
      'a 600-byte Authorization header to parse and a larger answer; the guard itself is a few µs (SHA-256 cache key, regex, LRU), see its profile',
    ],
    [
      'orders (Express + guard) ÷ bare Express',
      rowRatio(guard, 'orders example (Express + guard, jwt'),
      0.8,
      undefined,
      true,
    ],
    ['profile (Fastify + guard) ÷ bare Fastify', rowRatio(guard, 'profile example'), 0.8, undefined, true],
    [
      'node:http + guard (opaque) ÷ raw node:http',
      rowRatio(guard, 'node:http + guard (opaque'),
      0.6,
      undefined,
      true,
    ],
    ['cold token ÷ (jwtVerify + SHA-256)', cold ? Number(cold.coldRatio) : undefined, 1, undefined, false],
    [
      'logins/s through HTTP ÷ bare Fastify with one argon2id verify per POST',
      // Results written before the HTTP baseline existed compared with a bare loop: not this goal.
      login?.loop ? num(login.ratio) : undefined,
      0.9,
      undefined,
      true,
      "argon2id runs on 2 libuv threads and the service's own main-thread work per login (the throttle's reserve and give-back scripts, the session script, the EdDSA signature, the answer) runs on the same 2 cores; the baseline has none of it",
    ],
    [
      'refreshes/s through HTTP ÷ bare Fastify with one EdDSA sign + one script call per POST',
      refresh?.loop ? num(refresh.ratio) : undefined,
      0.7,
      undefined,
      true,
      'a refresh also hashes two secrets, seals the successor (HKDF + AES-GCM), parses and validates the body, sets cookies and writes a log line and metrics',
    ],
    ...guardedGrowth.map(
      ([series, value, cpu]) =>
        [
          `guarded p99, largest ÷ smallest session count (${series})`,
          num(value),
          1.2,
          undefined,
          false,
          [
            cpu === undefined ? '' : `server CPU per request grew ×${cpu} over the same range`,
            series.includes('one Redis')
              ? 'one Redis lookup per request: a lookup in a 1.3 GB keyspace misses the CPU caches more often (Redis cost, not the guard)'
              : 'no Redis per request on this path: p99 on 2 shared cores swings from round to round',
          ]
            .filter(Boolean)
            .join('; '),
        ] as Goal,
    ),
    [
      'login p99, largest ÷ smallest session count',
      num(growth?.loginP99),
      1.2,
      undefined,
      false,
      "a login's p99 is argon2 queueing (8 connections on 2 pool threads); its Redis work does not grow with the sessions stored (the create script reads none of the user's other sessions below the bound), but at 1M sessions the bench Redis (about 550 MB) shares the 2 cores with the argon2 threads",
    ],
    ['refresh p99, largest ÷ smallest session count', num(growth?.refreshP99), 1.2, undefined, false],
    [
      'guarded p99 (jwt), 100k ÷ 0 revoked outstanding',
      num(growth?.revokedP99),
      1.2,
      undefined,
      false,
      num(growth?.revokedCpuUsPerRequest) === undefined
        ? undefined
        : `server CPU per request ×${num(growth?.revokedCpuUsPerRequest)}; the set is a Map lookup whatever its size`,
    ],
    [
      'guard ready with 100k revoked (ms)',
      revoked100k ? Number(revoked100k.readyMs) : restart ? Number(restart.readyMsMedianOf3) : undefined,
      1000,
      undefined,
      false,
    ],
    [
      'revocation latency p50 (ms), both services',
      latency ? Number(latency.p50Ms) : undefined,
      1,
      undefined,
      false,
      'after the logout answer, one HTTP request to each service is needed to see the 401; see the breakdown',
    ],
    ['revocation latency p99 (ms), both services', latency ? Number(latency.p99Ms) : undefined, 5, 10, false],
    [
      `bytes per session in Redis incl. the user index, worst life point (${worstMemory ? String(worstMemory.point) : '—'}), real User-Agents`,
      worstMemory ? Number(worstMemory.keyBytesPerSession) : undefined,
      400,
      undefined,
      false,
      'the sealed successor key (grace window only) and the older generations key of refresh-reuse detection are over budget by themselves; see the memory section',
    ],
  ];
  const sourceOf = (what: string): Json | null => {
    if (/express-jwt|express-session|authorize/.test(what)) return peers;
    if (/logins|refreshes\/s/.test(what)) return auth;
    if (/session count|revoked outstanding|ready with/.test(what)) return scale;
    if (/revocation latency/.test(what)) return revocation;
    if (/bytes per session/.test(what)) return memory;
    return guard;
  };
  for (const g of goals) if (sourceOf(g[0])?.validation) fromValidation.add(g[0]);
  const verdict = (g: Goal) => {
    const text = judge(g);
    return fromValidation.has(g[0]) && text !== 'not measured'
      ? `${text} _(short validation run: not a verdict)_`
      : text;
  };
  const judge = ([, measured, goal, floor, higher, why]: Goal) => {
    if (measured === undefined) return 'not measured';
    const meets = (limit: number) => (higher ? measured >= limit : measured <= limit);
    if (meets(goal)) return 'meets the goal';
    const by = higher
      ? `${Math.round((1 - measured / goal) * 100)} % (needs ×${(goal / measured).toFixed(2)})`
      : `${Math.round((measured / goal - 1) * 100)} % (${measured} against ${goal})`;
    const because = why ? `; ${why}` : '';
    if (floor !== undefined && meets(floor)) return `misses the goal by ${by}, within the floor${because}`;
    return `**misses the goal** by ${by}${because}`;
  };
  return table(
    ['what', 'measured', 'goal', 'floor', 'verdict'],
    goals.map((g) => [
      g[0],
      g[1] ?? '',
      `${g[4] ? '≥' : '≤'} ${g[2]}`,
      g[3] === undefined ? '' : String(g[3]),
      verdict(g),
    ]),
  );
}

export function writePerformanceDoc(): void {
  const parts = [
    '# Performance',
    '',
    'Generated by `npm run bench` (bench/run.ts) from `bench/results/*.json`. Every number is',
    'reported next to a baseline measured in the same invocation, because this machine (2 shared',
    'cores; the load generator runs on the same cores as the server) is noisy: compare ratios, not',
    "absolute req/s. Server CPU per request (from the server process's own `cpuUsage()`) is",
    'steadier than req/s.',
    '',
    '**Running it.** `npm run bench` runs every suite (core, auth, http, guard, peers, scale,',
    'memory, revocation, tracking, startup; about 20 minutes on 2 quiet cores, 1M sessions take a',
    'few hundred MB in the bench Redis) after building the packages (`prebench`), and regenerates',
    'this file and `docs/charts/*.svg`;',
    '`npm run bench -- peers scale` runs some suites. Knobs: `BENCH_DURATION` (s per load, 5),',
    '`BENCH_ROUNDS` (3), `BENCH_SCALE_SESSIONS` (1000,100000,1000000), `BENCH_SCALE_REVOKED`',
    '(0,10000,100000), `BENCH_MEMORY_SESSIONS` (100), `BENCH_REVOCATION_TRIALS` (100),',
    '`BENCH_RESTART_ENTRIES` (100000). `npm run bench:quick` checks the benchmarks in under 2',
    'minutes (results in the ignored bench/results/quick/). Profiles are separate:',
    '`npm run bench:profile -- authorize after` (also `guard-node`, `bare-fastify`, `raw-node`)',
    'rewrites `bench/results/profile-<target>-<label>.json`; the `before` profile of',
    '`/v1/authorize` was taken at commit 7f327d6, before the changes described below.',
    '',
  ];
  const validation = sections.some(([name]) => Boolean(load(name)?.validation));
  parts.push('## Goals from the issues, against the latest run', '');
  if (validation) {
    parts.push(
      '**Some results below come from short validation runs on a loaded machine (marked in their',
      'sections): they show that the benchmarks work, not the verdicts. Rerun `npm run bench` on a',
      'quiet machine.**',
      '',
    );
  }
  parts.push(
    'Tessera checks revocation on every request; the peers (express-jwt, jose, express-session,',
    'Better Auth) do not.',
    '',
    goalsSection(),
    '',
    'Charts: [throughput vs peers and baselines](charts/throughput.svg),',
    '[p99 vs sessions in Redis](charts/p99-vs-sessions.svg),',
    '[revocation latency distribution](charts/revocation-latency.svg) (`npm run bench:charts`).',
    '',
  );
  for (const [name, title, render] of sections) {
    const result = load(name);
    parts.push(`## ${title}`, '', header(result), '', render(result), '');
  }
  // Sections measured outside `npm run bench` (e.g. by the browser tests), kept by hand.
  const pages = new URL('../docs/performance/pages.md', import.meta.url);
  if (existsSync(pages)) parts.push(readFileSync(pages, 'utf8').trimEnd(), '');
  writeFileSync(new URL('../docs/performance.md', import.meta.url), `${parts.join('\n')}\n`);
  writeCharts();
}
