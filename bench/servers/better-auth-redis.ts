// Peer: Express 5 + Better Auth (1.x) `auth.api.getSession` per request, sessions in its Redis secondary
// storage (@better-auth/redis-storage on ioredis), users in its memory adapter. GET /login signs a user up and returns its
// session cookie; GET /whoami reads the session. Better Auth checks no revocation feed: a
// deleted session is seen at the next getSession (one Redis GET per request).
import { redisStorage } from '@better-auth/redis-storage';
import { betterAuth } from 'better-auth';
import { memoryAdapter } from 'better-auth/adapters/memory';
import { fromNodeHeaders } from 'better-auth/node';
import express from 'express';
import { Redis } from 'ioredis';
import { reportReady } from '../lib/load.ts';

const redis = new Redis(process.env.TESSERA_REDIS_URL ?? 'redis://127.0.0.1:6379');
const port = Number(process.env.PORT ?? 0);
const auth = betterAuth({
  secret: 'bench-only-better-auth-secret-0123456789abcdef',
  baseURL: 'http://127.0.0.1',
  database: memoryAdapter({ user: [], session: [], account: [], verification: [] }),
  secondaryStorage: redisStorage({ client: redis, keyPrefix: 'bench-ba:' }),
  emailAndPassword: { enabled: true },
  logger: { disabled: true },
});

let signups = 0;
const app = express();
app.disable('x-powered-by');
app.get('/login', (_req, res) => {
  signups++;
  auth.api
    .signUpEmail({
      body: { email: `bench${signups}@example.test`, password: 'bench password 1234', name: 'bench' },
      asResponse: true,
    })
    .then((response) => {
      res.status(response.status).setHeader('set-cookie', response.headers.getSetCookie()).end();
    })
    .catch(() => res.status(500).end());
});
app.get('/whoami', (req, res) => {
  auth.api
    .getSession({ headers: fromNodeHeaders(req.headers) })
    .then((found) => {
      if (!found) res.status(401).end();
      else res.json({ userId: found.user.id, sessionId: found.session.id, roles: [] });
    })
    .catch(() => res.status(500).end());
});
const server = app.listen(port, '127.0.0.1', () => {
  const address = server.address();
  if (address && typeof address === 'object') reportReady(address.port);
});
process.on('SIGTERM', () => server.close(() => void redis.quit().finally(() => process.exit(0))));
