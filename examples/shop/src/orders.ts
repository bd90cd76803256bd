import type { Server } from 'node:http';
import { pathToFileURL } from 'node:url';
import { createGuard, type Guard } from '@tessera/guard';
import { authenticate, requireRole } from '@tessera/guard/express';
import express, { type Express } from 'express';
import { readListenOptions } from './listen-options.ts';

/**
 * The orders service (Express): every route needs a valid session.
 * `GET /whoami` → `{ userId, sessionId, roles }`; `GET /admin` → 200 for role `admin`, else 403.
 */
export function createOrdersApp(guard: Guard): Express {
  const app = express();
  app.disable('x-powered-by');
  app.use(authenticate(guard));
  app.get('/whoami', (req, res) => {
    const { userId, sessionId, roles } = req.tessera ?? { userId: '', sessionId: '', roles: [] };
    res.json({ userId, sessionId, roles });
  });
  app.get('/admin', requireRole('admin'), (req, res) => {
    res.json({ service: 'orders', admin: true, userId: req.tessera?.userId });
  });
  return app;
}

async function main(): Promise<void> {
  const { port, host } = readListenOptions(4101);
  const guard = createGuard();
  await guard.ready();
  const server: Server = createOrdersApp(guard).listen(port, host, () => {
    const address = server.address();
    const actual = typeof address === 'object' && address ? address.port : port;
    console.log(`orders (express) listening on http://${host}:${actual}`);
  });
  const stop = () => {
    server.close();
    void guard.close();
  };
  process.once('SIGTERM', stop).once('SIGINT', stop);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((error: unknown) => {
    console.error(`orders: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  });
}
