// A plain-JavaScript Hono service guarded by Tessera (node hono-service.mjs).
import { serve } from '@hono/node-server';
import { createGuard } from '@tessera/guard';
import { authenticate, requireRole } from '@tessera/guard/hono';
import { Hono } from 'hono';

const guard = createGuard();
await guard.ready();

const app = new Hono();
app.use(authenticate(guard)); // c.get('tessera') = { userId, sessionId, roles }
app.get('/whoami', (c) => c.json({ userId: c.get('tessera').userId, roles: c.get('tessera').roles }));
app.get('/admin', requireRole('admin'), (c) => c.json({ admin: true }));

const server = serve(
  { fetch: app.fetch, port: Number(process.env.PORT ?? 3000), hostname: '127.0.0.1' },
  (info) => console.log(`hono service listening on port ${info.port}`),
);
process.once('SIGTERM', () => server.close(() => guard.close()));
