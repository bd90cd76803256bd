// Regenerates docs/performance.md from bench/results/*.json.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
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
  return `_measured ${String(result.date)} on ${String(m.cpus)} × ${String(m.cpuModel)}, Node ${String(m.node)}_`;
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
  const row = (m: Json, base: Json) => [
    String(m.name),
    Number(m.perSec),
    String(base.name),
    Number(base.perSec),
    ratio(Number(m.perSec), Number(base.perSec)),
    m.latencyP99Ms === undefined ? '' : Number(m.latencyP99Ms),
  ];
  return [
    table(
      ['measured', 'per s', 'baseline (same run)', 'per s', 'ratio', 'p99 ms'],
      [
        row(login.service as Json, login.baseline as Json),
        row(refresh.service as Json, refresh.baseline as Json),
        row(refresh.engine as Json, refresh.baseline as Json),
      ],
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
          '≤ 10 ms',
          '50 ms',
        ],
      ],
    ),
    '',
    'Guard restart: a new guard process with the revocation stream holding this many live entries,',
    'time from `createGuard()` to `ready()` (median of 3) and heap per revoked session.',
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
];

function rowRatio(guard: Json | null, name: string): number | undefined {
  const row = ((guard?.rows as Json[]) ?? []).find((r) => String(r.name).startsWith(name));
  return row ? Number(row.ratio) : undefined;
}

/** The issues' goals next to what this run measured. */
function goalsSection(): string {
  const auth = load('auth');
  const guard = load('guard');
  const revocation = load('revocation');
  const login = auth?.login as Json | undefined;
  const refresh = auth?.refresh as Json | undefined;
  const latency = revocation?.latency as Json | undefined;
  const restart = revocation?.restart as Json | undefined;
  const cold = guard?.cold as Json | undefined;
  const goals: Goal[] = [
    ['logins/s ÷ bare argon2 verify loop', login ? Number(login.ratio) : undefined, 0.9, undefined, true],
    [
      'refreshes/s through HTTP',
      refresh ? Number((refresh.service as Json).perSec) : undefined,
      3000,
      undefined,
      true,
    ],
    [
      'HTTP refreshes ÷ bare sign + script loop',
      refresh ? Number(refresh.ratio) : undefined,
      0.7,
      undefined,
      true,
    ],
    [
      'engine refreshes ÷ bare sign + script loop',
      refresh ? Number(refresh.engineRatio) : undefined,
      0.7,
      undefined,
      true,
    ],
    ['node:http + guard (jwt) ÷ raw node:http', rowRatio(guard, 'node:http + guard (jwt'), 0.8, 0.5, true],
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
    [
      'orders opaque ÷ express-session + connect-redis',
      rowRatio(guard, 'orders example (Express + guard, opaque'),
      1.35,
      undefined,
      true,
    ],
    ['cold token ÷ (jwtVerify + SHA-256)', cold ? Number(cold.coldRatio) : undefined, 1, undefined, false],
    ['revocation latency p99 (ms)', latency ? Number(latency.p99Ms) : undefined, 10, 50, false],
    [
      'guard ready with 100k revoked (ms)',
      restart ? Number(restart.readyMsMedianOf3) : undefined,
      1000,
      undefined,
      false,
    ],
  ];
  const verdict = ([, measured, goal, floor, higher]: Goal) => {
    if (measured === undefined) return 'not measured';
    const meets = (limit: number) => (higher ? measured >= limit : measured <= limit);
    if (meets(goal)) return 'meets the goal';
    if (floor !== undefined && meets(floor)) return 'misses the goal, within the floor';
    return '**misses the goal**';
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
  ];
  parts.push('## Goals from the issues, against the latest run', '', goalsSection(), '');
  for (const [name, title, render] of sections) {
    const result = load(name);
    parts.push(`## ${title}`, '', header(result), '', render(result), '');
  }
  writeFileSync(new URL('../docs/performance.md', import.meta.url), `${parts.join('\n')}\n`);
}
