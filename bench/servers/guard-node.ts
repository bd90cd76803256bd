// node:http with the Tessera guard (jwt or opaque mode from TESSERA_TOKEN_MODE).
import { createServer, type ServerResponse } from 'node:http';
import { createGuard, type Principal } from '@tessera/guard';
import { createAuthenticator } from '@tessera/guard/node';
import { reportReady } from '../lib/load.ts';

const t0 = performance.now();
const guard = createGuard();
await guard.ready();
/** createGuard() → ready(): Redis connection, metadata and JWKS location, revocation set loaded. */
const readyMs = performance.now() - t0;
const authenticate = createAuthenticator(guard);
function respond(principal: Principal | undefined, res: ServerResponse): void {
  if (!principal) return;
  res.writeHead(200, { 'content-type': 'application/json' });
  res.end(
    JSON.stringify({ userId: principal.userId, sessionId: principal.sessionId, roles: principal.roles }),
  );
}
// A cached token is answered in the same tick (no promise); a first sight or a Redis check awaits.
const server = createServer((req, res) => {
  const principal = authenticate(req, res);
  if (principal instanceof Promise) void principal.then((p) => respond(p, res));
  else respond(principal, res);
});
server.listen(Number(process.env.PORT ?? 0), '127.0.0.1', () => {
  const address = server.address();
  if (address && typeof address === 'object') reportReady(address.port, { readyMs });
});
process.on('SIGTERM', () => server.close(() => void guard.close().finally(() => process.exit(0))));
