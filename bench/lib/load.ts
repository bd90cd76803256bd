import { type ChildProcess, fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { stopChild } from './process.ts';

/** One load run: throughput, latency and the server's CPU time per request. */
export interface LoadResult {
  name: string;
  requestsPerSec: number;
  latencyP50Ms: number;
  latencyP99Ms: number;
  /** Server process CPU (user+system) per completed request, in µs. */
  serverCpuUsPerRequest: number;
  requests: number;
  non2xx: number;
  errors: number;
}

export interface BenchServer {
  port: number;
  /** What the server reported with its port (e.g. `readyMs`). */
  info: Record<string, unknown>;
  cpu(): Promise<number>;
  /** Resident set size of the server process, bytes. */
  rss(): Promise<number>;
  stop(): Promise<void>;
}

/**
 * Starts `bench/servers/<script>` (TypeScript, run through tsx) as a child process with IPC,
 * waits for `{ ready: port }`, and can ask it for its CPU usage.
 */
export async function startBenchServer(
  script: string,
  env: Record<string, string> = {},
  nodeArgs: string[] = [],
): Promise<BenchServer> {
  const file = fileURLToPath(new URL(`../servers/${script}`, import.meta.url));
  const child: ChildProcess = fork(file, [], {
    execArgv: [...nodeArgs, '--import', 'tsx'],
    env: { ...process.env, PORT: '0', LOG_LEVEL: 'silent', ...env },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const info = await new Promise<Record<string, unknown>>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${script} did not start`)), 60_000);
    child.once('exit', (code) => reject(new Error(`${script} exited with ${code}`)));
    child.on('message', (message: { ready?: number }) => {
      if (typeof message?.ready === 'number') {
        clearTimeout(timer);
        resolve(message);
      }
    });
  });
  const ask = (question: 'cpu' | 'rss') =>
    new Promise<number>((resolve) => {
      const onMessage = (message: Record<string, unknown>) => {
        const value = message?.[question];
        if (typeof value === 'number') {
          child.off('message', onMessage);
          resolve(value);
        }
      };
      child.on('message', onMessage);
      child.send(question);
    });
  return {
    port: info.ready as number,
    info,
    cpu: () => ask('cpu'),
    rss: () => ask('rss'),
    stop: () => stopChild(child, 3000),
  };
}

/** Called by a bench server once it listens: reports the port (and `extra`) and answers CPU and RSS queries. */
export function reportReady(port: number, extra: Record<string, unknown> = {}): void {
  process.on('message', (message) => {
    if (message === 'cpu') {
      const usage = process.cpuUsage();
      process.send?.({ cpu: usage.user + usage.system });
    } else if (message === 'rss') {
      process.send?.({ rss: process.memoryUsage().rss });
    }
  });
  process.send?.({ ...extra, ready: port });
}

export interface LoadOptions {
  name: string;
  url: string;
  headers?: Record<string, string>;
  connections?: number;
  durationSec?: number;
  /** Server CPU time so far in µs (IPC query or /proc), for CPU per request. */
  cpu?: () => number | Promise<number>;
}

/** Runs autocannon against 127.0.0.1 for a bounded time (after a 1 s warm-up). */
export async function runLoad(options: LoadOptions): Promise<LoadResult> {
  const connections = options.connections ?? 50;
  const duration = options.durationSec ?? Number(process.env.BENCH_DURATION ?? 5);
  const headers = options.headers ?? {};
  await autocannon({ url: options.url, connections, duration: 1, headers });
  const cpuBefore = options.cpu ? await options.cpu() : 0;
  const result = await autocannon({ url: options.url, connections, duration, headers });
  const cpuAfter = options.cpu ? await options.cpu() : 0;
  const completed = result.requests.total;
  return {
    name: options.name,
    requestsPerSec: Math.round(result.requests.average),
    latencyP50Ms: result.latency.p50,
    latencyP99Ms: result.latency.p99,
    serverCpuUsPerRequest: completed > 0 ? Math.round(((cpuAfter - cpuBefore) / completed) * 10) / 10 : 0,
    requests: completed,
    non2xx: result.non2xx,
    errors: result.errors + result.timeouts,
  };
}

/** Starts a bench server, loads it, stops it. */
export async function measureServer(
  name: string,
  script: string,
  path: string,
  options: { env?: Record<string, string>; headers?: Record<string, string> } = {},
): Promise<LoadResult> {
  const server = await startBenchServer(script, options.env);
  try {
    return await runLoad({
      name,
      url: `http://127.0.0.1:${server.port}${path}`,
      cpu: server.cpu,
      ...(options.headers ? { headers: options.headers } : {}),
    });
  } finally {
    await server.stop();
  }
}
