import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** Repository root (where `npm start` runs). */
export const REPO_ROOT = fileURLToPath(new URL('../../../../', import.meta.url));
export const BIN = fileURLToPath(new URL('../../bin/tessera.cjs', import.meta.url));

/**
 * The whole environment of a spawned CLI or service: PATH and HOME from this process, then
 * exactly `env`. Nothing else is inherited, so `TESSERA_*`, `PORT`, `HOST` or `LOG_LEVEL` in
 * the caller's shell never reach the child (contract §1).
 */
export function childEnv(env: Record<string, string>): Record<string, string> {
  return { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/tmp', ...env };
}

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `node bin/tessera.cjs ...args` to completion (test helper). */
export function runCli(args: string[], env: Record<string, string>, stdin = ''): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      cwd: REPO_ROOT,
      env: childEnv(env),
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => {
      stdout += d;
    });
    child.stderr.on('data', (d) => {
      stderr += d;
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(stdin);
  });
}

/** Starts `npm start` in its own process group; resolves once it prints that it listens. */
export function startService(
  env: Record<string, string>,
): Promise<{ child: ChildProcess; output: () => string }> {
  return waitForBanner(
    spawn('npm', ['start', '--silent'], {
      cwd: REPO_ROOT,
      env: childEnv(env),
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    }),
  );
}

function waitForBanner(child: ChildProcess): Promise<{ child: ChildProcess; output: () => string }> {
  return new Promise((resolve, reject) => {
    let output = '';
    const timer = setTimeout(() => reject(new Error(`service did not start:\n${output}`)), 20_000);
    const onData = (d: Buffer) => {
      output += d;
      if (output.includes('Add a user:')) {
        clearTimeout(timer);
        resolve({ child, output: () => output });
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`service exited with ${code}:\n${output}`));
    });
  });
}

/**
 * Sends SIGTERM to the process group we started (npm and the node it runs) and waits until
 * every process holding its output pipes has exited. Resolves with the exit code of the leader.
 */
export function stopService(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => {
    const pid = child.pid;
    const done = () => resolve(child.exitCode);
    if (!pid || child.stdout?.closed) return done();
    const timer = setTimeout(() => {
      try {
        process.kill(-pid, 'SIGKILL');
      } catch {}
    }, 5000);
    child.stdout?.once('close', () => {
      clearTimeout(timer);
      done();
    });
    try {
      process.kill(-pid, 'SIGTERM');
    } catch {
      clearTimeout(timer);
      done();
    }
  });
}

/** Starts `node bin/tessera.cjs serve` directly (its own pid gets the signals). */
export function startServe(
  env: Record<string, string>,
): Promise<{ child: ChildProcess; output: () => string }> {
  return waitForBanner(
    spawn(process.execPath, [BIN, 'serve'], {
      cwd: REPO_ROOT,
      env: childEnv(env),
      stdio: ['ignore', 'pipe', 'pipe'],
    }),
  );
}
