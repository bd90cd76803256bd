import { chmod, lstat, mkdir, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { dirname } from 'node:path';
import type { FastifyInstance, HTTPMethods } from 'fastify';
import { BODY_LIMIT } from './app.ts';

/** File name of the local control socket inside the data dir. */
export const CONTROL_SOCKET = 'tessera.sock';
/** Longest Unix socket path Linux and macOS accept. */
const MAX_SOCKET_PATH = 100;

/**
 * The admin API for local processes only: a Unix socket in the data dir (mode 0600, dir 0700),
 * so `tessera sessions …` works against the embedded default (sessions in this process's
 * memory) without turning on the admin API over TCP. Requests are passed to the app with the
 * in-process admin credential. Returns `null` when the path is too long for a socket.
 */
export async function startControlSocket(
  app: FastifyInstance,
  path: string,
  credential: string,
): Promise<{ close(): Promise<void> } | null> {
  if (path.length > MAX_SOCKET_PATH) return null;
  const dir = dirname(path);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  // An existing data dir keeps whatever mode it was made with: tighten it. A directory that
  // is a symlink or not ours gets no socket (the admin API must not be reachable by others).
  const info = await lstat(dir);
  if (!info.isDirectory() || (typeof process.getuid === 'function' && info.uid !== process.getuid()))
    return null;
  if ((info.mode & 0o077) !== 0) await chmod(dir, 0o700);
  await rm(path, { force: true }); // left by a process that crashed
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= BODY_LIMIT) chunks.push(chunk);
    });
    req.on('end', () => {
      app
        .inject({
          method: (req.method ?? 'GET') as HTTPMethods,
          url: req.url ?? '/',
          headers: {
            ...(req.headers['content-type'] ? { 'content-type': req.headers['content-type'] } : {}),
            authorization: `Bearer ${credential}`,
          },
          ...(chunks.length > 0 ? { payload: Buffer.concat(chunks) } : {}),
        })
        .then(
          (answer) => {
            res.writeHead(answer.statusCode, {
              'content-type': String(answer.headers['content-type'] ?? 'text/plain'),
            });
            res.end(answer.rawPayload);
          },
          () => {
            res.writeHead(500).end();
          },
        );
    });
  });
  // The socket file is created by listen(): under umask 0177 it is 0600 from its first
  // moment, not after a chmod (no window in which another user could connect).
  const umask = process.umask(0o177);
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(path, () => resolve());
    });
  } finally {
    process.umask(umask);
  }
  await chmod(path, 0o600);
  return {
    async close() {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await rm(path, { force: true });
    },
  };
}
