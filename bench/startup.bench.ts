// Start-up time and memory, TypeScript loader (tsx, sources) vs compiled JavaScript (dist/):
// the auth service (spawn → GET /healthz 200) and a guarded Express service (spawn → first
// answer, i.e. the guard is ready: it listens only after guard.ready()). RSS is VmRSS from
// /proc right after that first answer. Runs alternate between the two variants; medians.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { freePort, startRedis as startBenchRedis } from '@tessera/testkit';
import { writeResult } from './lib/results.ts';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const RUNS = Number(process.env.BENCH_STARTUP_RUNS ?? 5);
const TSX = ['--conditions=@tessera/source', '--import', 'tsx'];

interface Sample {
  ms: number;
  rssMb: number;
}

function rssMb(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8').match(/VmRSS:\s+(\d+) kB/);
  return line ? Math.round(Number(line[1]) / 102.4) / 10 : 0;
}

async function measure(args: string[], env: Record<string, string>, url: string): Promise<Sample> {
  const started = performance.now();
  const child: ChildProcess = spawn(process.execPath, args, {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', LOG_LEVEL: 'silent', ...env },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  try {
    for (;;) {
      if (child.exitCode !== null) throw new Error(`${args.join(' ')} exited with ${child.exitCode}`);
      if (performance.now() - started > 30_000) throw new Error(`${args.join(' ')} did not answer`);
      try {
        const response = await fetch(url);
        if (response.status < 500) break;
      } catch {
        // not listening yet
      }
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    return { ms: Math.round(performance.now() - started), rssMb: rssMb(child.pid ?? 0) };
  } finally {
    await new Promise<void>((resolve) => {
      if (child.exitCode !== null) return resolve();
      child.once('exit', () => resolve());
      child.kill('SIGKILL');
    });
  }
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? 0;
};

export async function runStartupBench(): Promise<unknown> {
  const loadAtStart = Math.round((loadavg()[0] ?? 0) * 10) / 10;
  const redis = await startBenchRedis();
  const dataDir = mkdtempSync(join(tmpdir(), 'tessera-startup-'));
  const authPort = await freePort();
  const authUrl = `http://127.0.0.1:${authPort}`;
  const authEnv = {
    PORT: String(authPort),
    TESSERA_REDIS_URL: redis.url,
    TESSERA_DATA_DIR: dataDir,
    TESSERA_USERS: 'memory',
  };
  const variants = {
    auth: {
      tsx: [...TSX, 'packages/server/src/cli/main.ts', 'serve'],
      compiled: ['packages/server/bin/tessera.cjs', 'serve'],
    },
    guarded: {
      tsx: [...TSX, 'examples/installed/services/express-service.mjs'],
      compiled: ['examples/installed/services/express-service.mjs'],
    },
  } as const;
  const samples: Record<string, Record<string, Sample[]>> = {
    auth: { tsx: [], compiled: [] },
    guarded: { tsx: [], compiled: [] },
  };
  let auth: ChildProcess | undefined;
  try {
    for (let run = 0; run < RUNS; run++) {
      for (const mode of run % 2 === 0 ? (['tsx', 'compiled'] as const) : (['compiled', 'tsx'] as const)) {
        samples.auth?.[mode]?.push(await measure([...variants.auth[mode]], authEnv, `${authUrl}/healthz`));
      }
    }
    // The guarded service needs a running auth service (metadata, JWKS) and Redis.
    auth = spawn(process.execPath, ['packages/server/bin/tessera.cjs', 'serve'], {
      cwd: ROOT,
      env: {
        PATH: process.env.PATH ?? '',
        HOME: process.env.HOME ?? '/tmp',
        LOG_LEVEL: 'silent',
        ...authEnv,
      },
      stdio: 'ignore',
    });
    for (let i = 0; i < 200 && (await fetch(`${authUrl}/healthz`).catch(() => null))?.status !== 200; i++) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    for (let run = 0; run < RUNS; run++) {
      for (const mode of run % 2 === 0 ? (['tsx', 'compiled'] as const) : (['compiled', 'tsx'] as const)) {
        const port = await freePort();
        const env = { PORT: String(port), TESSERA_AUTH_URL: authUrl, TESSERA_REDIS_URL: redis.url };
        samples.guarded?.[mode]?.push(
          await measure([...variants.guarded[mode]], env, `http://127.0.0.1:${port}/`),
        );
      }
    }
  } finally {
    auth?.kill('SIGTERM');
    await redis.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
  const results = Object.entries(samples).flatMap(([service, modes]) =>
    Object.entries(modes).map(([mode, list]) => ({
      service,
      mode,
      command: `node ${variants[service as keyof typeof variants][mode as 'tsx' | 'compiled'].join(' ')}`,
      runs: list.length,
      startupMsMedian: median(list.map((s) => s.ms)),
      rssMbMedian: median(list.map((s) => s.rssMb)),
      startupMs: list.map((s) => s.ms),
    })),
  );
  return { runs: RUNS, loadAtStart, results };
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  writeResult('startup', await runStartupBench());
}
