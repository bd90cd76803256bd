import { type ChildProcess, execFile, spawn } from 'node:child_process';

/**
 * The whole environment of a process these tests spawn: PATH and HOME from this process, then
 * exactly `env`; nothing else (no `TESSERA_*`, `PORT`, `HOST`, `LOG_LEVEL`, `npm_config_*`) leaks
 * in from the caller's shell.
 */
export function cleanEnv(env: Record<string, string> = {}): Record<string, string> {
  return { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/tmp', ...env };
}

export interface Running {
  pid: number;
  output(): string;
  stop(): Promise<void>;
}

/** Spawns `command args` and resolves once a line of its output matches `ready`. */
export function start(
  command: string,
  args: string[],
  options: { cwd: string; env: Record<string, string>; ready: RegExp; timeoutMs?: number },
): Promise<Running> {
  const child: ChildProcess = spawn(command, args, {
    cwd: options.cwd,
    env: cleanEnv(options.env),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const stop = () =>
    new Promise<void>((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) return resolve();
      const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
      child.once('exit', () => {
        clearTimeout(timer);
        resolve();
      });
      child.kill('SIGTERM');
    });
  return new Promise<Running>((resolve, reject) => {
    const timer = setTimeout(() => {
      void stop();
      reject(new Error(`${command} ${args.join(' ')}: not ready in time\n${output}`));
    }, options.timeoutMs ?? 20_000);
    const onData = (chunk: Buffer) => {
      output += String(chunk);
      if (options.ready.test(output)) {
        clearTimeout(timer);
        resolve({ pid: child.pid ?? 0, output: () => output, stop });
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('error', reject);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${command} ${args.join(' ')}: exited with ${code}\n${output}`));
    });
  });
}

export interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `command args` to completion (never rejects on a non-zero exit). */
export function run(
  command: string,
  args: string[],
  options: { cwd: string; env?: Record<string, string>; stdin?: string; timeoutMs?: number },
): Promise<Result> {
  return new Promise((resolve) => {
    const child = execFile(
      command,
      args,
      {
        cwd: options.cwd,
        env: cleanEnv(options.env),
        timeout: options.timeoutMs ?? 120_000,
        maxBuffer: 1 << 24,
      },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
        resolve({ code, stdout: String(stdout), stderr: String(stderr) });
      },
    );
    child.stdin?.end(options.stdin ?? '');
  });
}

/** Logs in at the auth service; returns the access token (jwt mode) and the session id. */
export async function login(
  authUrl: string,
  username: string,
  password: string,
): Promise<{ token: string; sessionId: string }> {
  const response = await fetch(`${authUrl}/v1/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username, password }),
  });
  if (response.status !== 200)
    throw new Error(`login ${username}: ${response.status} ${await response.text()}`);
  const body = (await response.json()) as { accessToken: string; session: { id: string } };
  return { token: body.accessToken, sessionId: body.session.id };
}
