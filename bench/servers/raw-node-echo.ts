// Second baseline for the guard on node:http: raw node:http that receives the same
// Authorization header and answers the same JSON principal shape, with no guard work at all.
// It shows what the guard itself costs; the goal is still judged against plain raw node:http.
import { createServer } from 'node:http';
import { reportReady } from '../lib/load.ts';

const principal = {
  userId: 'u1234567890abcdefghij',
  sessionId: 'u1234567890abcdefghij.AAAAAAAAAAAAAAAAAAAAAA',
  roles: ['admin'],
};
const server = createServer((req, res) => {
  if (!req.headers.authorization) {
    res.writeHead(401).end();
    return;
  }
  res.writeHead(200, { 'content-type': 'application/json' });
  res.end(
    JSON.stringify({ userId: principal.userId, sessionId: principal.sessionId, roles: principal.roles }),
  );
});
server.listen(Number(process.env.PORT ?? 0), '127.0.0.1', () => {
  const address = server.address();
  if (address && typeof address === 'object') reportReady(address.port);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
