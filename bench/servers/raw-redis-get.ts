// Baseline: node:http doing one Redis GET per request.
import { createServer } from 'node:http';
import { Redis } from 'ioredis';
import { reportReady } from '../lib/load.ts';

const redis = new Redis(process.env.TESSERA_REDIS_URL ?? 'redis://127.0.0.1:6379');
await redis.set('bench:key', JSON.stringify({ userId: 'u1' }));
const server = createServer((_req, res) => {
  redis.get('bench:key').then(
    (value) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(value);
    },
    () => {
      res.writeHead(503);
      res.end();
    },
  );
});
server.listen(Number(process.env.PORT ?? 0), '127.0.0.1', () => {
  const address = server.address();
  if (address && typeof address === 'object') reportReady(address.port);
});
process.on('SIGTERM', () => server.close(() => redis.quit().finally(() => process.exit(0))));
