// Baseline: express-session + connect-redis (node-redis), the classic monolith session stack.
// GET /login creates a session (the bench takes its cookie); GET /whoami reads it.
import { RedisStore } from 'connect-redis';
import express from 'express';
import session from 'express-session';
import { createClient } from 'redis';
import { reportReady } from '../lib/load.ts';

declare module 'express-session' {
  interface SessionData {
    userId?: string;
    roles?: string[];
  }
}

const client = createClient({ url: process.env.TESSERA_REDIS_URL ?? 'redis://127.0.0.1:6379' });
await client.connect();
const app = express();
app.use(
  session({
    store: new RedisStore({ client, prefix: 'bench-sess:' }),
    secret: 'bench-only-secret-not-used-elsewhere',
    resave: false,
    saveUninitialized: false,
    rolling: false,
    cookie: { httpOnly: true, sameSite: 'lax', secure: false },
  }),
);
app.get('/login', (req, res) => {
  req.session.userId = 'u1';
  req.session.roles = ['admin'];
  res.json({ ok: true });
});
app.get('/whoami', (req, res) => {
  if (!req.session.userId) {
    res.status(401).end();
    return;
  }
  res.json({ userId: req.session.userId, sessionId: req.sessionID, roles: req.session.roles });
});
const server = app.listen(Number(process.env.PORT ?? 0), '127.0.0.1', () => {
  const address = server.address();
  if (address && typeof address === 'object') reportReady(address.port);
});
process.on('SIGTERM', () => server.close(() => void client.quit().finally(() => process.exit(0))));
