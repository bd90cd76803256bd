// Peer: Express 5 with a bare `jose` jwtVerify per request against the auth service's JWKS
// (createRemoteJWKSet caches the keys): what a team writes by hand. No revocation check.
import express from 'express';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import { reportReady } from '../lib/load.ts';

const authUrl = process.env.TESSERA_AUTH_URL ?? 'http://127.0.0.1:4100';
const metadata = (await (await fetch(`${authUrl}/.well-known/oauth-authorization-server`)).json()) as {
  issuer: string;
  jwks_uri: string;
};
const jwks = createRemoteJWKSet(new URL(metadata.jwks_uri));
const app = express();
app.disable('x-powered-by');
app.get('/whoami', (req, res) => {
  const token = /^Bearer (\S+)$/.exec(req.headers.authorization ?? '')?.[1] ?? '';
  jwtVerify(token, jwks, { issuer: metadata.issuer, audience: 'tessera' }).then(
    ({ payload }) => res.json({ userId: payload.sub, sessionId: payload.sid, roles: payload.roles ?? [] }),
    () => res.status(401).end(),
  );
});
const server = app.listen(Number(process.env.PORT ?? 0), '127.0.0.1', () => {
  const address = server.address();
  if (address && typeof address === 'object') reportReady(address.port);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
