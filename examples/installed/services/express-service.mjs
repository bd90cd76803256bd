// A plain-JavaScript Express service guarded by Tessera (node express-service.mjs).
// Configured by the environment: TESSERA_AUTH_URL, TESSERA_REDIS_URL, PORT.
import { createGuard } from '@tessera/guard';
import { authenticate, requireRole } from '@tessera/guard/express';
import express from 'express';

const guard = createGuard(); // reads and validates TESSERA_* once; throws TypeError if wrong
await guard.ready(); // JWKS fetched, Redis reached, revocation feed loaded

const app = express();
app.use(authenticate(guard)); // 401/503 problem+json, or req.tessera = { userId, sessionId, roles }
app.get('/whoami', (req, res) => res.json({ userId: req.tessera.userId, roles: req.tessera.roles }));
app.get('/admin', requireRole('admin'), (_req, res) => res.json({ admin: true })); // else 403

const server = app.listen(Number(process.env.PORT ?? 3000), '127.0.0.1', () => {
  console.log(`express service listening on port ${server.address().port}`);
});
process.once('SIGTERM', () => server.close(() => guard.close()));
