import type { Redis } from 'ioredis';
import { beforeAll, describe, expect, it } from 'vitest';
import { formatOpaqueToken, generateSecret, hashSecret } from '../../tokens/opaque-token.ts';
import { openSuccessor, sealSuccessor } from '../../tokens/successor-box.ts';
import { ACCESS, createCommand, IDLE, ManualClock, newSession, RETENTION } from '../conformance-fixtures.ts';
import { createRedisKeys } from './redis-keys.ts';
import { createRedisStore } from './redis-store.ts';
import { usePrivateRedis } from './redis-test-fixtures.ts';

// Issue 9 §7: the sealed successor must not outlive the grace window, and the session hash
// must keep Redis's compact encoding (every value ≤ hash-max-listpack-value, 64 bytes).
describe('sealed successor after the grace window; compact session hash', () => {
  const redis = usePrivateRedis();
  let client: Redis;
  const keys = createRedisKeys('tessera:');
  const GRACE = 300;

  beforeAll(() => {
    client = redis.client;
  });

  it('a refreshed session hash stays listpack; a dump after the grace window plus the predecessor gives nothing', async () => {
    const clock = new ManualClock(Date.now());
    const store = createRedisStore({ client, revocationRetentionMs: RETENTION, ownsClient: false });
    const session = newSession('alice', clock);
    const secrets = [generateSecret()];
    await store.createSession(
      createCommand(session, clock, { secretHash: hashSecret(secrets[0] as string) }),
    );
    const skey = keys.session('alice', session.id);
    expect(await client.object('ENCODING', skey)).toBe('listpack');
    const rotate = (presented: string, next: string, sealed: string) =>
      store.rotateRefresh({
        sessionId: session.id,
        presentedHash: hashSecret(presented),
        nextHash: hashSecret(next),
        sealedSuccessor: sealed,
        now: clock.now(),
        graceMs: GRACE,
        idleMs: IDLE,
        strict: false,
        accessExpiresAt: clock.now() + ACCESS,
      });
    let sealed = '';
    for (let i = 0; i < 5; i++) {
      const previous = secrets.at(-1) as string;
      const next = generateSecret();
      secrets.push(next);
      sealed = sealSuccessor(formatOpaqueToken('refresh', session.id, next), previous, session.id);
      expect((await rotate(previous, next, sealed)).kind).toBe('rotated');
      expect(await client.object('ENCODING', skey), `after refresh ${i + 1}`).toBe('listpack');
    }
    const predecessor = secrets.at(-2) as string;
    // Within the grace window the predecessor gets the same successor (concurrent tabs).
    const grace = await rotate(predecessor, generateSecret(), 'unused');
    expect(grace.kind === 'grace' && openSuccessor(grace.sealedSuccessor, predecessor, session.id)).toBe(
      formatOpaqueToken('refresh', session.id, secrets.at(-1) as string),
    );

    // After the grace window, nothing stored anywhere holds the sealed successor.
    const deadline = Date.now() + 5000;
    while ((await client.exists(`${keys.user('alice')}sc:${session.id}`)) === 1 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const dump: string[] = [];
    for (const key of await client.keys(`${keys.user('alice')}*`)) {
      const type = await client.type(key);
      if (type === 'hash') dump.push(...Object.values(await client.hgetall(key)));
      else if (type === 'string') dump.push((await client.get(key)) as string);
      else if (type === 'zset') dump.push(...(await client.zrange(key, 0, -1)));
    }
    expect(dump.some((value) => value.includes(sealed))).toBe(false);
    // Even a caller whose clock still says "within grace" gets nothing from the predecessor.
    expect(await rotate(predecessor, generateSecret(), 'unused')).toEqual({ kind: 'invalid' });
    // And after the grace window by the clock, it is reuse: the whole session is revoked.
    clock.advance(GRACE + 1);
    expect(await rotate(predecessor, generateSecret(), 'unused')).toEqual({ kind: 'reused' });
    expect(await client.keys(`${keys.user('alice')}*`)).toEqual([]);
  });
});
