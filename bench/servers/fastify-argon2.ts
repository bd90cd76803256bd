// Baseline for logins through HTTP: bare Fastify 5, POST /login with a JSON body, one argon2id
// verify per request (@node-rs/argon2, the auth service's parameters) against one stored hash.
// Started with the auth service's UV_THREADPOOL_SIZE (argon2 runs on libuv's pool).
import { hash, verify } from '@node-rs/argon2';
import { DEFAULT_PASSWORD_PARAMS } from '@tessera/server';
import Fastify from 'fastify';
import { reportReady } from '../lib/load.ts';

const stored = await hash('bench password 1234', { ...DEFAULT_PASSWORD_PARAMS, algorithm: 2 });
const app = Fastify({ logger: false });
app.post('/login', async (request, reply) => {
  const body = request.body as { username?: unknown; password?: unknown } | undefined;
  if (typeof body?.username !== 'string' || typeof body.password !== 'string') return reply.code(400).send();
  if (!(await verify(stored, body.password))) return reply.code(401).send();
  return { ok: true, username: body.username };
});
await app.listen({ port: Number(process.env.PORT ?? 0), host: '127.0.0.1' });
const address = app.server.address();
if (address && typeof address === 'object') reportReady(address.port);
process.on('SIGTERM', () => void app.close().then(() => process.exit(0)));
