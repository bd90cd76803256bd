import { startRedis } from '../../../test/support/index.ts';
import { createGuard } from './index.ts';
import { openSessionFixture, startKeyServer } from './testing/auth-fixture.ts';

const redis = await startRedis();
const keys = await startKeyServer();
const sessions = await openSessionFixture(redis.url);
const guard = createGuard({ authUrl: keys.url, redis: { kind: 'single', url: redis.url }, env: {} });
await guard.ready();
const { sessionId } = await sessions.createSession('alice', ['admin']);
const token = await keys.sign({ sub: 'alice', sid: sessionId, roles: ['admin'] });
const headers = { authorization: `Bearer ${token}`, host: 'x', 'user-agent': 'y' };
for (let round = 0; round < 3; round++) {
  const n = 300_000;
  let t = performance.now();
  for (let i = 0; i < n; i++) await guard.authenticate(guard.credentialFrom(headers));
  const full = ((performance.now() - t) * 1000) / n;
  t = performance.now();
  for (let i = 0; i < n; i++) guard.credentialFrom(headers);
  const cred = ((performance.now() - t) * 1000) / n;
  const { hashToken } = await import('@tessera/core');
  t = performance.now();
  for (let i = 0; i < n; i++) hashToken(token);
  const hash = ((performance.now() - t) * 1000) / n;
  t = performance.now();
  for (let i = 0; i < n; i++) await Promise.resolve(1);
  const tick = ((performance.now() - t) * 1000) / n;
  console.log({ full, cred, hash, tick });
}
await guard.close();
await sessions.close();
await keys.close();
await redis.stop();
process.exit(0);
