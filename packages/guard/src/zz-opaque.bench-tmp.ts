import { hashSecret, parseOpaqueToken } from '@tessera/core';
import { startRedis } from '../../../test/support/index.ts';
import { createGuard } from './index.ts';
import { openSessionFixture } from './testing/auth-fixture.ts';

const redis = await startRedis();
const sessions = await openSessionFixture(redis.url);
const guard = createGuard({ tokenMode: 'opaque', redis: { kind: 'single', url: redis.url }, env: {} });
await guard.ready();
const { token, sessionId } = await sessions.createSession('alice', ['admin']);
const client = sessions.client;
for (let round = 0; round < 3; round++) {
  const n = 20_000;
  let t = performance.now();
  for (let i = 0; i < n; i++) await guard.authenticate(token);
  const full = ((performance.now() - t) * 1000) / n;
  t = performance.now();
  for (let i = 0; i < n; i++) await sessions.store.getSession(sessionId);
  const store = ((performance.now() - t) * 1000) / n;
  t = performance.now();
  for (let i = 0; i < n; i++) await client.get('x');
  const get = ((performance.now() - t) * 1000) / n;
  t = performance.now();
  for (let i = 0; i < n; i++) parseOpaqueToken(token, 'session');
  const parse = ((performance.now() - t) * 1000) / n;
  t = performance.now();
  for (let i = 0; i < n; i++) hashSecret('x'.repeat(43));
  const hs = ((performance.now() - t) * 1000) / n;
  console.log({ full, store, get, parse, hs });
}
await guard.close();
await sessions.close();
await redis.stop();
process.exit(0);
