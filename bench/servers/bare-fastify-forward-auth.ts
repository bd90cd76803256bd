// Second baseline for GET /v1/authorize: bare Fastify 5 that receives the same Authorization
// header and answers as forward-auth does (200, empty body, the identity headers), with no
// verification, hooks, logging or metrics. It shows what the exchange itself costs next to
// bare Fastify answering {"ok":true}-sized JSON with no header; the goal is still judged
// against plain bare Fastify.
import Fastify from 'fastify';
import { reportReady } from '../lib/load.ts';

const who = { userId: 'u1234567890abcdefghij', sessionId: 'u1234567890abcdefghij.AAAAAAAAAAAAAAAAAAAAAA' };
const app = Fastify({ logger: false });
app.get('/v1/authorize', (request, reply) => {
  if (!request.headers.authorization) return reply.code(401).send();
  return reply
    .header('cache-control', 'no-store')
    .header('x-user-id', who.userId)
    .header('x-user-roles', 'admin')
    .header('x-session-id', who.sessionId)
    .code(200)
    .send();
});
await app.listen({ port: Number(process.env.PORT ?? 0), host: '127.0.0.1' });
const address = app.server.address();
if (address && typeof address === 'object') reportReady(address.port);
process.on('SIGTERM', () => void app.close().then(() => process.exit(0)));
