// Baseline: Fastify 5 without the guard, same route shape as the profile example.
import Fastify from 'fastify';
import { reportReady } from '../lib/load.ts';

const app = Fastify({ logger: false });
app.get('/whoami', async () => ({ userId: 'u1', sessionId: 's1', roles: [] }));
await app.listen({ port: Number(process.env.PORT ?? 0), host: '127.0.0.1' });
const address = app.server.address();
if (address && typeof address === 'object') reportReady(address.port);
process.on('SIGTERM', () => void app.close().then(() => process.exit(0)));
