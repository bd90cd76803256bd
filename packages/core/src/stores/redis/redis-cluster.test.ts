import { type RedisCluster, startRedisCluster } from '@tessera/testkit';
import type { Cluster } from 'ioredis';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { generateSecret, hashSecret } from '../../tokens/opaque-token.ts';
import {
  ACCESS,
  createCommand,
  GRACE,
  IDLE,
  ManualClock,
  newSession,
  RETENTION,
} from '../conformance-fixtures.ts';
import type { SessionStore } from '../session-store.ts';
import { connectRedis, createRedisClient } from './connection.ts';
import { defineScripts } from './lua-scripts.ts';
import { scanAllKeys } from './redis-inspect.ts';
import { createRedisKeys } from './redis-keys.ts';
import { createRedisStore } from './redis-store.ts';

describe('RedisStore (cluster)', () => {
  let cluster: RedisCluster;
  let client: Cluster;
  let store: SessionStore;
  let clock: ManualClock;
  const keys = createRedisKeys('tessera:');
  beforeAll(async () => {
    cluster = await startRedisCluster();
    client = createRedisClient({ kind: 'cluster', nodes: cluster.nodes }) as Cluster;
    await connectRedis(client);
  });
  afterAll(async () => {
    client?.disconnect();
    await cluster?.stop();
  });
  beforeEach(async () => {
    await Promise.all(client.nodes('master').map((node) => node.flushall()));
    clock = new ManualClock(Date.now());
    store = createRedisStore({ client, revocationRetentionMs: RETENTION, ownsClient: false });
  });

  async function login(userId: string, options: Parameters<typeof createCommand>[2] = {}) {
    const session = newSession(userId, clock);
    const secret = generateSecret();
    const result = await store.createSession(
      createCommand(session, clock, { secretHash: hashSecret(secret), ...options }),
    );
    return { session, secret, result };
  }

  /** Step 1 of a cluster revocation only, as if the process died before announcing. */
  async function markOnly(userId: string, sessionId: string) {
    const run = defineScripts(client);
    const args = [0, clock.now(), 600_000, RETENTION, keys.user(userId), userId, sessionId];
    await run('revoke-session', [keys.session(userId, sessionId), keys.index(userId)], args);
  }

  it('spreads users over slots and gives every key a TTL', async () => {
    for (const user of ['alice', 'bob', 'carol', 'dave', 'erin']) {
      const { session } = await login(user);
      await store.revokeSession((await login(user)).session.id, clock.now());
      await store.touchSession(session.id, clock.now() + 120_000, IDLE, 0);
    }
    await store.hitRateLimit('login:alice', 60_000, 5, clock.now());
    const found = await scanAllKeys(client);
    expect(new Set(found.map((f) => f.node.options.port)).size).toBeGreaterThan(1);
    for (const { node, key } of found) expect(await node.pttl(key), key).toBeGreaterThan(0);
  });

  it('a session marked for revocation is refused at once, and a retried revoke finishes it', async () => {
    const { session, secret } = await login('alice');
    await markOnly('alice', session.id);
    expect(await store.getSession(session.id)).toBeNull();
    expect(await store.touchSession(session.id, clock.now(), IDLE, 0)).toBeNull();
    expect(await store.setAccessExpiry(session.id, clock.now() + ACCESS, clock.now())).toBe(false);
    expect(await store.listUserSessions('alice', clock.now())).toEqual([]);
    const rotate = await store.rotateRefresh({
      sessionId: session.id,
      presentedHash: hashSecret(secret),
      nextHash: hashSecret(generateSecret()),
      sealedSuccessor: 'sealed',
      now: clock.now(),
      graceMs: GRACE,
      idleMs: IDLE,
      strict: false,
      accessExpiresAt: clock.now() + ACCESS,
    });
    expect(rotate).toEqual({ kind: 'invalid' });
    expect(await store.readRevocations('0', clock.now())).toEqual([]);
    expect(await store.revokeSession(session.id, clock.now())).toBe(true);
    expect(await store.readRevocations('0', clock.now())).toMatchObject([
      { kind: 'session', sessionId: session.id },
    ]);
    expect(await client.exists(keys.session('alice', session.id))).toBe(0);
    expect(await client.zcard(keys.index('alice'))).toBe(0);
  });

  it('the next login finishes a revocation that stopped after step 1', async () => {
    const { session } = await login('alice');
    await markOnly('alice', session.id);
    const next = await login('alice', { concurrency: 'reject' });
    expect(next.result).toEqual({ ok: true, revokedSessionIds: [] });
    expect(await store.readRevocations('0', clock.now())).toMatchObject([
      { kind: 'session', sessionId: session.id },
    ]);
    expect(await client.exists(keys.session('alice', session.id))).toBe(0);
    expect(await store.listUserSessions('alice', clock.now())).toEqual([next.session]);
  });

  it('revoke-all announces before deleting and includes marked sessions', async () => {
    const a = await login('alice');
    await login('alice');
    await markOnly('alice', a.session.id);
    expect((await store.revokeUserSessions('alice', clock.now())).count).toBe(1);
    const [entry] = await store.readRevocations('0', clock.now());
    expect(entry?.kind === 'user' && entry.sessionIds).toHaveLength(2);
    expect(await client.exists(keys.index('alice'))).toBe(0);
  });

  it('50 concurrent refreshes with one token: one rotation, 49 identical grace answers', async () => {
    const { session, secret } = await login('alice');
    const results = await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        store.rotateRefresh({
          sessionId: session.id,
          presentedHash: hashSecret(secret),
          nextHash: hashSecret(generateSecret()),
          sealedSuccessor: `sealed-${i}`,
          now: clock.now(),
          graceMs: GRACE,
          idleMs: IDLE,
          strict: false,
          accessExpiresAt: clock.now() + ACCESS,
        }),
      ),
    );
    expect(results.filter((r) => r.kind === 'rotated')).toHaveLength(1);
    const grace = results.filter((r) => r.kind === 'grace');
    expect(grace).toHaveLength(49);
    expect(new Set(grace.map((r) => r.sealedSuccessor)).size).toBe(1);
    expect(await store.getSession(session.id)).not.toBeNull();
  });
});
