// Peer: Express 5 + express-jwt 8 + jwks-rsa 4: one signature check per request (jsonwebtoken),
// the key from the auth service's JWKS (cached by jwks-rsa), no revocation check. RS256 only:
// jsonwebtoken cannot verify EdDSA ("Unknown key type ed25519"), so the auth service behind it
// runs with TESSERA_SIGNING_ALG=RS256.
import express from 'express';
import { expressjwt, type Request as JwtRequest } from 'express-jwt';
import jwksRsa from 'jwks-rsa';
import { reportReady } from '../lib/load.ts';

const authUrl = process.env.TESSERA_AUTH_URL ?? 'http://127.0.0.1:4100';
const metadata = (await (await fetch(`${authUrl}/.well-known/oauth-authorization-server`)).json()) as {
  issuer: string;
  jwks_uri: string;
};
const app = express();
app.disable('x-powered-by');
app.use(
  expressjwt({
    secret: jwksRsa.expressJwtSecret({ jwksUri: metadata.jwks_uri, cache: true, rateLimit: true }),
    algorithms: ['RS256'],
    issuer: metadata.issuer,
    audience: 'tessera',
  }),
);
app.get('/whoami', (req: JwtRequest, res) => {
  const auth = req.auth as { sub?: string; sid?: string; roles?: string[] } | undefined;
  res.json({ userId: auth?.sub, sessionId: auth?.sid, roles: auth?.roles ?? [] });
});
app.use(
  (error: { status?: number }, _req: express.Request, res: express.Response, _next: express.NextFunction) => {
    res.status(error.status ?? 500).end();
  },
);
const server = app.listen(Number(process.env.PORT ?? 0), '127.0.0.1', () => {
  const address = server.address();
  if (address && typeof address === 'object') reportReady(address.port);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
