import { pathToFileURL } from 'node:url';
import { createGuard, type Guard } from '@tessera/guard';
import { requireRole, tesseraPlugin } from '@tessera/guard/fastify';
import Fastify, { type FastifyInstance } from 'fastify';
import { readListenOptions } from './listen-options.ts';

/**
 * The profile service (Fastify): every route needs a valid session.
 * `GET /whoami` → `{ userId, sessionId, roles }`; `GET /admin` → 200 for role `admin`, else 403.
 */
export async function createProfileApp(guard: Guard): Promise<FastifyInstance> {
  const app = Fastify({ logger: false });
  await app.register(tesseraPlugin, { guard });
  app.get('/whoami', async (request) => {
    const { userId, sessionId, roles } = request.tessera ?? { userId: '', sessionId: '', roles: [] };
    return { userId, sessionId, roles };
  });
  app.get('/admin', { preHandler: requireRole('admin') }, async (request) => ({
    service: 'profile',
    admin: true,
    userId: request.tessera?.userId,
  }));
  return app;
}

async function main(): Promise<void> {
  const { port, host } = readListenOptions(4102);
  const guard = createGuard();
  await guard.ready();
  const app = await createProfileApp(guard);
  const url = await app.listen({ port, host });
  console.log(`profile (fastify) listening on ${url}`);
  const stop = () => {
    void app.close().then(() => guard.close());
  };
  process.once('SIGTERM', stop).once('SIGINT', stop);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((error: unknown) => {
    console.error(`profile: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  });
}
