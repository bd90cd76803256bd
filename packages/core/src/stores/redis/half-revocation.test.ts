// Test-only: the guard's TCP proxy (cut one node's link). Candidate for @tessera/testkit.
import { type RedisCluster, startRedisCluster, startTcpProxy, type TcpProxy } from '@tessera/testkit';
import { Cluster } from 'ioredis';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { StoreUnavailableError } from '../../errors/errors.ts';
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
import { connectRedis } from './connection.ts';
import { createRedisKeys } from './redis-keys.ts';
import { createRedisStore } from './redis-store.ts';

// Issue 9 §5: on a cluster a revocation is mark → announce (stream slot) → delete. When the
// stream's node fails between the steps, any later attempt must finish the announcement.
describe('half-finished cluster revocations are finished by the next attempt (TCP proxy cuts the stream node)', () => {
  let cluster: RedisCluster;
  let client: Cluster;
  let store: SessionStore;
  let clock: ManualClock;
  const proxies = new Map<number, TcpProxy>();
  let streamLink: TcpProxy;
  const keys = createRedisKeys('tessera:');

  /** Port of the master that owns `key`'s slot (asked while every link is up). */
  async function slotOwner(key: string): Promise<number> {
    const slot = Number(await client.cluster('KEYSLOT', key));
    const ranges = await client.cluster('SLOTS');
    const owner = ranges.find(([from, to]) => slot >= from && slot <= to);
    return Number(owner?.[2]?.[1]);
  }

  beforeAll(async () => {
    cluster = await startRedisCluster();
    const natMap: Record<string, { host: string; port: number }> = {};
    for (const server of cluster.servers) {
      const proxy = await startTcpProxy(server.port);
      proxies.set(server.port, proxy);
      natMap[`127.0.0.1:${server.port}`] = { host: '127.0.0.1', port: proxy.port };
    }
    client = new Cluster(cluster.nodes, {
      natMap,
      enableOfflineQueue: false,
      lazyConnect: true,
      clusterRetryStrategy: (times) => Math.min(100 * times, 1000),
      redisOptions: { maxRetriesPerRequest: 1, commandTimeout: 1000, connectTimeout: 1000 },
    });
    client.on('error', () => {});
    await connectRedis(client);
    streamLink = proxies.get(await slotOwner(keys.stream)) as TcpProxy;
  }, 60_000);

  afterAll(async () => {
    client?.disconnect();
    for (const proxy of proxies.values()) await proxy.close();
    await cluster?.stop();
  });

  beforeEach(async () => {
    streamLink.restore();
    clock = new ManualClock(Date.now());
    store = createRedisStore({ client, revocationRetentionMs: RETENTION, ownsClient: false });
  });

  /** A user whose keys live on another node than the stream. */
  async function userAwayFromStream(): Promise<string> {
    const streamNode = await slotOwner(keys.stream);
    for (let i = 0; ; i++) {
      const uid = `user${i}`;
      if ((await slotOwner(keys.index(uid))) !== streamNode) return uid;
    }
  }

  async function login(userId: string) {
    const session = newSession(userId, clock);
    const secret = generateSecret();
    await store.createSession(createCommand(session, clock, { secretHash: hashSecret(secret) }));
    return { session, secret };
  }

  /** Retries `operation` while the client reconnects to the restored node. */
  async function once<T>(operation: () => Promise<T>): Promise<T> {
    for (let i = 0; ; i++) {
      try {
        return await operation();
      } catch (error) {
        if (!(error instanceof StoreUnavailableError) || i > 100) throw error;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    }
  }

  const announced = async (sessionId: string) =>
    (await once(() => store.readRevocations('0', clock.now()))).filter(
      (e) => e.kind === 'session' && e.sessionId === sessionId,
    ).length;

  const rotate = (sessionId: string, secret: string) =>
    store.rotateRefresh({
      sessionId,
      presentedHash: hashSecret(secret),
      nextHash: hashSecret(generateSecret()),
      sealedSuccessor: 'sealed',
      now: clock.now(),
      graceMs: GRACE,
      idleMs: IDLE,
      strict: false,
      accessExpiresAt: clock.now() + ACCESS,
    });

  async function markWithStreamCut(sessionId: string): Promise<void> {
    streamLink.cut();
    await expect(store.revokeSession(sessionId, clock.now())).rejects.toBeInstanceOf(StoreUnavailableError);
    streamLink.restore();
  }

  const meetings: Array<[string, (id: string) => Promise<unknown>, unknown]> = [
    ['a retried logout (revokeSession)', (id) => store.revokeSession(id, clock.now()), true],
    ['the next authenticate (touchSession)', (id) => store.touchSession(id, clock.now(), IDLE, 0), null],
    ['a session lookup (getSession)', (id) => store.getSession(id), null],
  ];
  it.each(meetings)('%s finishes it', async (_name, operation, answer) => {
    const uid = await userAwayFromStream();
    const { session } = await login(uid);
    await markWithStreamCut(session.id);
    expect(await client.hget(keys.session(uid, session.id), 'rv')).toBe('1');
    expect(await announced(session.id)).toBe(0);
    expect(await once(() => operation(session.id))).toEqual(answer);
    expect(await announced(session.id)).toBe(1);
    expect(await client.exists(keys.session(uid, session.id))).toBe(0);
    // Every step is idempotent: doing it again changes nothing and fails nothing.
    expect(await store.revokeSession(session.id, clock.now())).toBe(false);
    expect(await announced(session.id)).toBe(1);
  });

  it('an admin revoke-all finishes it', async () => {
    const uid = await userAwayFromStream();
    const { session } = await login(uid);
    await markWithStreamCut(session.id);
    await once(() => store.revokeUserSessions(uid, clock.now()));
    const entries = await once(() => store.readRevocations('0', clock.now()));
    expect(
      entries.some((e) => e.kind === 'user' && e.userId === uid && e.sessionIds.includes(session.id)),
    ).toBe(true);
    expect(await client.exists(keys.session(uid, session.id))).toBe(0);
  });

  it('refresh-token reuse detected while the stream node is cut: the next refresh finishes the revocation', async () => {
    const uid = await userAwayFromStream();
    const { session, secret } = await login(uid);
    expect((await rotate(session.id, secret)).kind).toBe('rotated');
    clock.advance(GRACE + 1000);
    streamLink.cut();
    // The old token again, after the grace window: reuse → mark, then the announcement fails.
    await expect(rotate(session.id, secret)).rejects.toBeInstanceOf(StoreUnavailableError);
    streamLink.restore();
    expect(await client.hget(keys.session(uid, session.id), 'rv')).toBe('1');
    // The attacker (or the client) tries again: the revocation is finished, nothing is issued.
    expect(await once(() => rotate(session.id, secret))).toEqual({ kind: 'invalid' });
    expect(await announced(session.id)).toBe(1);
    expect(await client.exists(keys.session(uid, session.id))).toBe(0);
  });
});
