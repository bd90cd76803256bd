// Baseline: node:http calling jose.jwtVerify (EdDSA) on every request — what a guard without a cache pays.
import { createServer } from 'node:http';
import { createLocalJWKSet, jwtVerify } from 'jose';
import { reportReady } from '../lib/load.ts';

const jwks = createLocalJWKSet(JSON.parse(process.env.BENCH_JWKS ?? '{"keys":[]}'));
const issuer = process.env.TESSERA_ISSUER ?? 'http://bench';
const server = createServer((req, res) => {
  const token = (req.headers.authorization ?? '').replace(/^Bearer /, '');
  jwtVerify(token, jwks, { issuer, audience: 'tessera', algorithms: ['EdDSA'] }).then(
    ({ payload }) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ userId: payload.sub }));
    },
    () => {
      res.writeHead(401);
      res.end();
    },
  );
});
server.listen(Number(process.env.PORT ?? 0), '127.0.0.1', () => {
  const address = server.address();
  if (address && typeof address === 'object') reportReady(address.port);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
