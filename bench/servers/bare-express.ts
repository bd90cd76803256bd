// Baseline: Express 5 without the guard, same route shape as the orders example.
import express from 'express';
import { reportReady } from '../lib/load.ts';

const app = express();
app.get('/whoami', (_req, res) => {
  res.json({ userId: 'u1', sessionId: 's1', roles: [] });
});
const server = app.listen(Number(process.env.PORT ?? 0), '127.0.0.1', () => {
  const address = server.address();
  if (address && typeof address === 'object') reportReady(address.port);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
