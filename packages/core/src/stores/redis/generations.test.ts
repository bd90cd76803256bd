import type { Redis } from 'ioredis';
import { beforeAll, describe, expect, it } from 'vitest';
import { formatOpaqueToken, generateSecret, hashSecret } from '../../tokens/opaque-token.ts';
import { sealSuccessor } from '../../tokens/successor-box.ts';
import { ACCESS, createCommand, IDLE, ManualClock, newSession, RETENTION } from '../conformance-fixtures.ts';
import { createRedisKeys } from './redis-keys.ts';
import { createRedisStore } from './redis-store.ts';
import { usePrivateRedis } from './redis-test-fixtures.ts';

// Issue 15 (memory): older refresh generations (`o:<sid>`) keep the first 16 characters of
// each hash; lists of full hashes written before still detect reuse and are truncated.
describe('older refresh generations', () => {
  const redis = usePrivateRedis();
  let client: Redis;
  const keys = createRedisKeys('tessera:');

  beforeAll(() => {
    client = redis.client;
  });

  async function refreshed(times: number) {
    await client.flushall();
    const clock = new ManualClock(Date.now());
    const store = createRedisStore({ client, revocationRetentionMs: RETENTION, ownsClient: false });
    const session = newSession('alice', clock);
    const secrets = [generateSecret()];
    await store.createSession(
      createCommand(session, clock, { secretHash: hashSecret(secrets[0] as string) }),
    );
    const rotate = (presented: string, next: string) =>
      store.rotateRefresh({
        sessionId: session.id,
        presentedHash: hashSecret(presented),
        nextHash: hashSecret(next),
        sealedSuccessor: sealSuccessor(formatOpaqueToken('refresh', session.id, next), presented, session.id),
        now: clock.now(),
        graceMs: 1_000,
        idleMs: IDLE,
        strict: false,
        accessExpiresAt: clock.now() + ACCESS,
      });
    for (let i = 0; i < times; i++) {
      const next = generateSecret();
      expect((await rotate(secrets.at(-1) as string, next)).kind).toBe('rotated');
      secrets.push(next);
      clock.advance(2_000);
    }
    return { session, secrets, rotate, okey: keys.session('alice', session.id).replace(':s:', ':o:') };
  }

  it('stores 16-character prefixes, newest first, at most 32', async () => {
    const { secrets, okey } = await refreshed(3);
    const prefix = (s: string) => hashSecret(s).slice(0, 16);
    expect(await client.get(okey)).toBe(`${prefix(secrets[1] as string)} ${prefix(secrets[0] as string)}`);
    const many = await refreshed(40);
    const list = ((await client.get(many.okey)) as string).split(' ');
    expect(list).toHaveLength(32);
    expect(list[0]).toBe(prefix(many.secrets[38] as string));
    expect(list[31]).toBe(prefix(many.secrets[7] as string));
  });

  it('a list of full hashes written before the truncation still detects reuse, and is truncated on the next rotation', async () => {
    const a = await refreshed(3);
    const full = `${hashSecret(a.secrets[1] as string)} ${hashSecret(a.secrets[0] as string)}`;
    await client.set(a.okey, full, 'PX', 60_000);
    expect((await a.rotate(a.secrets[0] as string, generateSecret())).kind).toBe('reused');

    const b = await refreshed(3);
    await client.set(
      b.okey,
      `${hashSecret(b.secrets[1] as string)} ${hashSecret(b.secrets[0] as string)}`,
      'PX',
      60_000,
    );
    expect((await b.rotate(b.secrets[3] as string, generateSecret())).kind).toBe('rotated');
    const prefix = (s: string) => hashSecret(s).slice(0, 16);
    expect(await client.get(b.okey)).toBe(
      [b.secrets[2], b.secrets[1], b.secrets[0]].map((s) => prefix(s as string)).join(' '),
    );
    expect((await b.rotate(b.secrets[1] as string, generateSecret())).kind).toBe('reused');
  });
});
