// node:http with the Tessera guard (jwt or opaque mode from TESSERA_TOKEN_MODE).
import { createServer } from 'node:http';
import { createGuard } from '@tessera/guard';
import { createAuthenticator } from '@tessera/guard/node';
import { reportReady } from '../lib/load.ts';

const guard = createGuard();
await guard.ready();
const authenticate = createAuthenticator(guard);
const server = createServer(async (req, res) => {
  const principal = await authenticate(req, res);
  if (!principal) return;
  res.writeHead(200, { 'content-type': 'application/json' });
  res.end(
    JSON.stringify({ userId: principal.userId, sessionId: principal.sessionId, roles: principal.roles }),
  );
});
server.listen(Number(process.env.PORT ?? 0), '127.0.0.1', () => {
  const address = server.address();
  if (address && typeof address === 'object') reportReady(address.port);
});
process.on('SIGTERM', () => server.close(() => void guard.close().finally(() => process.exit(0))));
