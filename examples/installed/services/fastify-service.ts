// A TypeScript Fastify service guarded by Tessera (type-checked with tsc --noEmit).
// Configured by the environment: TESSERA_AUTH_URL, TESSERA_REDIS_URL, PORT.
import { createGuard, type Principal } from '@tessera/guard';
import { requireRole, tesseraPlugin } from '@tessera/guard/fastify';
import Fastify from 'fastify';

const guard = createGuard();
await guard.ready();

const app = Fastify();
await app.register(tesseraPlugin, { guard }); // preHandler on every route; request.tessera is typed
app.get('/whoami', async (request) => {
  const principal: Principal | null = request.tessera;
  return { userId: principal?.userId, roles: principal?.roles };
});
app.get('/admin', { preHandler: requireRole('admin') }, async () => ({ admin: true }));

const url = await app.listen({ port: Number(process.env.PORT ?? 3000), host: '127.0.0.1' });
console.log(`fastify service listening on ${url}`);
process.once('SIGTERM', () => void app.close().then(() => guard.close()));
