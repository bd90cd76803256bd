// A plain-JavaScript node:http service guarded by Tessera (node node-service.mjs).
import { createServer } from 'node:http';
import { createGuard } from '@tessera/guard';
import { createAuthenticator, requireRole } from '@tessera/guard/node';

const guard = createGuard();
await guard.ready();
const authenticate = createAuthenticator(guard);
const admin = requireRole('admin');

const server = createServer(async (req, res) => {
  const principal = await authenticate(req, res); // undefined: 401/503 already sent
  if (!principal) return;
  if (req.url === '/admin' && !admin(principal, res)) return; // false: 403 already sent
  res.setHeader('content-type', 'application/json');
  res.end(JSON.stringify({ userId: principal.userId, roles: principal.roles }));
});
server.listen(Number(process.env.PORT ?? 3000), '127.0.0.1', () => {
  console.log(`node service listening on port ${server.address().port}`);
});
process.once('SIGTERM', () => server.close(() => guard.close()));
