import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './free-port.ts';

/** A `redis-server` this test process spawned and owns (killed by pid). */
export interface RedisServer {
  port: number;
  url: string;
  pid: number;
  dir: string;
  stop(): Promise<void>;
  /** Sends raw inline commands and returns the raw RESP reply text (for FLUSHALL, DEBUG etc). */
  command(...args: string[]): Promise<string>;
}

const REDIS_BIN = process.env.REDIS_SERVER_BIN ?? 'redis-server';

/**
 * Spawns `redis-server` on a free port with no persistence, waits until *our* server answers
 * (checked by its run id matching the pid we spawned), and kills it by pid in `stop()`.
 */
export async function startRedis(extraArgs: string[] = [], fixedPort?: number): Promise<RedisServer> {
  for (let attempt = 0; attempt < 5; attempt++) {
    const port = fixedPort ?? (await freePort());
    const dir = mkdtempSync(join(tmpdir(), 'tessera-redis-'));
    const args = [
      '--port',
      String(port),
      '--bind',
      '127.0.0.1',
      '--save',
      '',
      '--appendonly',
      'no',
      '--dir',
      dir,
      '--protected-mode',
      'no',
      '--loglevel',
      'warning',
      ...extraArgs,
    ];
    const server = await spawnOwnRedis(args, port, dir);
    if (server) return server;
    if (fixedPort !== undefined) throw new Error(`redis-server did not start on port ${port}`);
  }
  throw new Error('could not start redis-server (is it installed? apt-get install redis-server)');
}

/**
 * Spawns `redis-server <args>` that should listen on `port` and owns `dir` (removed on stop).
 * Resolves `null` (after cleaning up) when the server that answers on `port` is not ours.
 */
export async function spawnOwnRedis(args: string[], port: number, dir: string): Promise<RedisServer | null> {
  const child = spawn(REDIS_BIN, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  const ok = await waitForOwnServer(child, port);
  if (!ok) {
    child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
    return null;
  }
  const pid = child.pid ?? 0;
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    pid,
    dir,
    command: (...command) => rawCommand(port, command),
    stop: () => stopChild(child, dir),
  };
}

function stopChild(child: ChildProcess, dir: string): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      rmSync(dir, { recursive: true, force: true });
      resolve();
    };
    if (child.exitCode !== null || child.signalCode !== null) return done();
    const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
    child.once('exit', () => {
      clearTimeout(timer);
      done();
    });
    child.kill('SIGTERM');
  });
}

async function waitForOwnServer(child: ChildProcess, port: number): Promise<boolean> {
  let exited = false;
  child.once('exit', () => {
    exited = true;
  });
  for (let i = 0; i < 200 && !exited; i++) {
    try {
      const info = await rawCommand(port, ['INFO', 'server']);
      const pid = /process_id:(\d+)/.exec(info)?.[1];
      return pid === String(child.pid);
    } catch {
      await new Promise((r) => setTimeout(r, 25));
    }
  }
  return false;
}

/** Minimal RESP client for harness chores: sends one command, returns the reply as text. */
export function rawCommand(port: number, args: string[], host = '127.0.0.1'): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = createConnection({ port, host });
    const chunks: Buffer[] = [];
    socket.setTimeout(5000, () => socket.destroy(new Error('timeout')));
    socket.on('error', reject);
    socket.on('connect', () => {
      socket.write(`*${args.length}\r\n${args.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join('')}`);
    });
    socket.on('data', (chunk) => {
      chunks.push(chunk);
      const text = Buffer.concat(chunks).toString();
      if (isCompleteReply(text)) {
        socket.end();
        if (text.startsWith('-')) reject(new Error(text.slice(1).trim()));
        else resolve(text);
      }
    });
  });
}

function isCompleteReply(text: string): boolean {
  if (!text.endsWith('\r\n')) return false;
  if (text.startsWith('$')) {
    const len = Number(text.slice(1, text.indexOf('\r\n')));
    if (len < 0) return true;
    return Buffer.byteLength(text) >= text.indexOf('\r\n') + 2 + len + 2;
  }
  if (text.startsWith('*')) return true; // harness uses arrays only for small replies read in one chunk
  return true;
}
