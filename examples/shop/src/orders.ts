import { randomUUID } from 'node:crypto';
import type { Server } from 'node:http';
import { pathToFileURL } from 'node:url';
import { createGuard, type Guard } from '@tessera/guard';
import { authenticate, requireRole } from '@tessera/guard/express';
import express, { type Express, type NextFunction, type Request, type Response } from 'express';
import { readListenOptions } from './listen-options.ts';

function invalidRequest(res: Response): void {
  res
    .status(400)
    .type('application/problem+json')
    .send(
      JSON.stringify({
        type: 'https://tessera.dev/problems/invalid_request',
        title: 'Invalid request',
        status: 400,
        detail: 'expected a JSON body { "item": a string of 1 to 200 characters }',
        code: 'invalid_request',
      }),
    );
}

/**
 * The orders service (Express): every route needs a valid session.
 * `GET /whoami` → `{ userId, sessionId, roles }`; `GET /admin` → 200 for role `admin`, else 403;
 * `POST /orders` `{ item }` → 201 `{ orderId, userId, item }` (the guard applies the CSRF rule
 * to cookie-authenticated requests: 403 `csrf`).
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
  app.post('/orders', express.json({ limit: '4kb' }), (req, res) => {
    const item = (req.body as { item?: unknown } | undefined)?.item;
    if (typeof item !== 'string' || item.length === 0 || item.length > 200) {
      invalidRequest(res);
      return;
    }
    res.status(201).json({ orderId: randomUUID(), userId: req.tessera?.userId, item });
  });
  // A body that is not JSON (or too large): the same problem, never Express's HTML page.
  app.use((_error: unknown, _req: Request, res: Response, _next: NextFunction) => invalidRequest(res));
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
