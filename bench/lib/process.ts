import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const CLOCK_TICKS_PER_SEC = 100;

export interface ChildService {
  url: string;
  pid: number;
  /** CPU time (user + system) the process has used, in µs (from /proc). */
  cpuUs(): number;
  stop(): Promise<void>;
}

/** Starts a repository command (e.g. the auth service bin) and waits until `url` answers `readyPath` (any status below 500). */
export async function startChild(
  args: string[],
  env: Record<string, string>,
  url: string,
  readyPath: string,
): Promise<ChildService> {
  const child: ChildProcess = spawn(process.execPath, args, {
    cwd: ROOT,
    env: { ...process.env, LOG_LEVEL: 'silent', ...env },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const pid = child.pid ?? 0;
  const deadline = Date.now() + 20_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${args.join(' ')} exited with ${child.exitCode}`);
    try {
      const response = await fetch(`${url}${readyPath}`);
      if (response.status < 500) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`${args.join(' ')} did not become ready`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    url,
    pid,
    cpuUs: () => {
      const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
      return ((Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS_PER_SEC) * 1e6;
    },
    stop: () => stopChild(child),
  };
}

/** SIGTERM, then SIGKILL after `graceMs`; resolves once the child (ours, by pid) has exited. */
export function stopChild(child: ChildProcess, graceMs = 5000): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

/** Runs `work` with `concurrency` loops for `durationMs`; returns completed operations per second. */
export async function runLoop(
  concurrency: number,
  durationMs: number,
  work: () => Promise<unknown>,
): Promise<number> {
  let done = 0;
  const end = Date.now() + durationMs;
  const started = Date.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (Date.now() < end) {
        await work();
        done++;
      }
    }),
  );
  return Math.round(done / ((Date.now() - started) / 1000));
}
