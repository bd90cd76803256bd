import type { Redis } from 'ioredis';
import { beforeAll, describe, expect, it } from 'vitest';
import { formatOpaqueToken, generateSecret, hashSecret } from '../../tokens/opaque-token.ts';
import { sealSuccessor } from '../../tokens/successor-box.ts';
import { ACCESS, createCommand, IDLE, ManualClock, newSession, RETENTION } from '../conformance-fixtures.ts';
import { createRedisKeys } from './redis-keys.ts';
import { createRedisStore, openRedisSessionReader } from './redis-store.ts';
import { usePrivateRedis } from './redis-test-fixtures.ts';

// Issue 15 (memory): a browser's User-Agent (over hash-max-listpack-value) is stored in its
// compact form, so the hash stays a listpack, and every read path gives it back unchanged.
describe('User-Agent in the Redis session hash', () => {
  const redis = usePrivateRedis();
  let client: Redis;
  const keys = createRedisKeys('tessera:');
  const CHROME =
    'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36';
  const ODD = `\x7f\x01 tab\t ü Mozilla/5.0 (X11; Linux x86_64) ${'x'.repeat(80)}`;

  beforeAll(async () => {
    client = redis.client;
    await client.config('SET', 'hash-max-listpack-value', '64');
  });

  for (const userAgent of [CHROME, ODD, '']) {
    it(`reads back ${JSON.stringify(userAgent.slice(0, 30))} from every path`, async () => {
      await client.flushall();
      const clock = new ManualClock(Date.now());
      const store = createRedisStore({ client, revocationRetentionMs: RETENTION, ownsClient: false });
      const reader = await openRedisSessionReader({ redis: client });
      const session = newSession('alice', clock, { userAgent });
      const first = generateSecret();
      await store.createSession(createCommand(session, clock, { secretHash: hashSecret(first) }));
      const skey = keys.session('alice', session.id);
      if (userAgent === CHROME) {
        expect(await client.object('ENCODING', skey)).toBe('listpack');
        expect(Buffer.byteLength((await client.hget(skey, 'ua')) as string)).toBeLessThan(16);
      }
      expect((await store.getSession(session.id))?.userAgent).toBe(userAgent);
      expect((await reader.getSession(session.id))?.userAgent).toBe(userAgent);
      expect((await store.listUserSessions('alice', clock.now())).map((s) => s.userAgent)).toEqual([
        userAgent,
      ]);
      clock.advance(120_000);
      expect((await store.touchSession(session.id, clock.now(), IDLE, 0))?.userAgent).toBe(userAgent);
      const next = generateSecret();
      const rotate = (presented: string) =>
        store.rotateRefresh({
          sessionId: session.id,
          presentedHash: hashSecret(presented),
          nextHash: hashSecret(next),
          sealedSuccessor: sealSuccessor(formatOpaqueToken('refresh', session.id, next), first, session.id),
          now: clock.now(),
          graceMs: 5_000,
          idleMs: IDLE,
          strict: false,
          accessExpiresAt: clock.now() + ACCESS,
        });
      const rotated = await rotate(first);
      expect(rotated.kind).toBe('rotated');
      expect(rotated.kind === 'rotated' && rotated.session.userAgent).toBe(userAgent);
      const grace = await rotate(first);
      expect(grace.kind).toBe('grace');
      expect(grace.kind === 'grace' && grace.session.userAgent).toBe(userAgent);
      if (userAgent === CHROME) expect(await client.object('ENCODING', skey)).toBe('listpack');
      await reader.close();
    });
  }
});
