import {
  connectRedis,
  createRedisClient,
  createRedisStore,
  type RedisClient,
  type SessionStore,
} from '@tessera/core';
import { type RedisCluster, startRedisCluster, waitFor } from '@tessera/testkit';
import { type KeyServer, startKeyServer } from '@tessera/testkit/fixtures';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createGuard, type Guard } from '../index.ts';

let cluster: RedisCluster;
let keys: KeyServer;
let client: RedisClient;
let store: SessionStore;
let guard: Guard;

beforeAll(async () => {
  cluster = await startRedisCluster();
  keys = await startKeyServer();
  client = createRedisClient({ kind: 'cluster', nodes: cluster.nodes });
  client.on('error', () => {});
  await connectRedis(client, 10_000);
  store = createRedisStore({ client, revocationRetentionMs: 15 * 60_000, ownsClient: false });
  guard = createGuard({ authUrl: keys.url, redis: { kind: 'cluster', nodes: cluster.nodes }, env: {} });
  await guard.ready();
}, 60_000);

afterAll(async () => {
  await guard?.close();
  client?.disconnect();
  await keys?.close();
  await cluster?.stop();
});

async function createSession(userId: string): Promise<string> {
  const now = Date.now();
  const id = `${userId}.${'A'.repeat(21)}${String(Math.floor(Math.random() * 10))}`;
  await store.createSession({
    session: {
      id,
      userId,
      roles: ['user'],
      createdAt: now,
      lastSeenAt: now,
      expiresAt: now + 3_600_000,
      absoluteExpiresAt: now + 86_400_000,
      ip: '',
      userAgent: '',
      accessExpiresAt: now + 600_000,
    },
    secretHash: 'x'.repeat(43),
    concurrency: 'allow',
    force: false,
    maxSessions: 0,
    now,
  });
  return id;
}

describe('revocation feed on a Redis Cluster', () => {
  it('refuses a session revoked on another slot within milliseconds, and after revoke-all', async () => {
    expect(guard.feedStatus()?.current).toBe(true);
    const sid = await createSession('zed');
    const token = await keys.sign({ sub: 'zed', sid });
    expect((await guard.authenticate(token)).ok).toBe(true);
    await store.revokeSession(sid, Date.now());
    await waitFor(async () => !(await guard.authenticate(token)).ok, 2000);
    expect(await guard.authenticate(token)).toMatchObject({ ok: false, error: { code: 'session_revoked' } });

    const other = await createSession('yan');
    const otherToken = await keys.sign({ sub: 'yan', sid: other });
    expect((await guard.authenticate(otherToken)).ok).toBe(true);
    await store.revokeUserSessions('yan', Date.now());
    await waitFor(async () => !(await guard.authenticate(otherToken)).ok, 2000);
  });

  it('checks Redis per request through the cluster client when the set cannot decide', async () => {
    const perRequest = createGuard({
      authUrl: keys.url,
      redis: { kind: 'cluster', nodes: cluster.nodes },
      revocationCheck: 'request',
      env: {},
    });
    await perRequest.ready();
    try {
      const sid = await createSession('xia');
      const token = await keys.sign({ sub: 'xia', sid });
      expect((await perRequest.authenticate(token)).ok).toBe(true);
      await store.revokeSession(sid, Date.now());
      expect((await perRequest.authenticate(token)).ok).toBe(false);
    } finally {
      await perRequest.close();
    }
  });
});
