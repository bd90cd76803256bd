import {
  cutReplica,
  killRedis,
  ownersOfKey,
  type RedisCluster,
  type RedisSentinel,
  type RedisServer,
  rawCommand,
  startRedis,
  startRedisCluster,
  startRedisSentinel,
  waitForClusterReplicas,
  waitForReplicaLink,
} from '@tessera/testkit';
import type { Cluster, Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StoreUnavailableError } from '../../errors/errors.ts';
import { ReplicaWaitTimeoutError } from '../../errors/replica-wait-timeout.ts';
import { generateSecret, hashSecret } from '../../tokens/opaque-token.ts';
import { createCommand, ManualClock, newSession, RETENTION } from '../conformance-fixtures.ts';
import type { SessionStore } from '../session-store.ts';
import { connectRedis, createRedisClient } from './connection.ts';
import { createRedisKeys } from './redis-keys.ts';
import { createRedisStore } from './redis-store.ts';

const WAIT = { replicas: 1, timeoutMs: 1000 };
const keys = createRedisKeys('tessera:');

async function login(store: SessionStore, clock: ManualClock, userId: string) {
  const session = newSession(userId, clock);
  await store.createSession(createCommand(session, clock, { secretHash: hashSecret(generateSecret()) }));
  return session;
}

describe('revocations wait for a replica (one master + one replica)', () => {
  let master: RedisServer;
  let replica: RedisServer;
  let client: Redis;
  let store: SessionStore;
  const clock = new ManualClock(Date.now());
  beforeAll(async () => {
    master = await startRedis(['--repl-diskless-sync-delay', '0']);
    replica = await startRedis(['--replicaof', '127.0.0.1', String(master.port)]);
    await waitForReplicaLink(replica.port);
    client = createRedisClient({ kind: 'single', url: master.url }) as Redis;
    await connectRedis(client);
    store = createRedisStore({
      client,
      revocationRetentionMs: RETENTION,
      ownsClient: false,
      replicaWait: WAIT,
    });
  });
  afterAll(async () => {
    client?.disconnect();
    await Promise.all([replica?.stop(), master?.stop()]);
  });

  it('a revocation resolves once the replica has it', async () => {
    const session = await login(store, clock, 'alice');
    expect(await store.revokeSession(session.id, clock.now())).toBe(true);
    // Resolved means replicated: the replica already refuses it.
    expect(await rawCommand(replica.port, ['EXISTS', keys.session('alice', session.id)])).toContain(':0');
  });

  it('a revocation the replica did not confirm throws ReplicaWaitTimeoutError (503) naming its sessions', async () => {
    const session = await login(store, clock, 'bob');
    const other = await login(store, clock, 'bob');
    const resume = await cutReplica(master.port, replica.pid);
    try {
      const error = await store.revokeSession(session.id, clock.now()).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ReplicaWaitTimeoutError);
      expect(error).toBeInstanceOf(StoreUnavailableError);
      expect((error as ReplicaWaitTimeoutError).sessionIds).toEqual([session.id]);
      expect((error as ReplicaWaitTimeoutError).acknowledged).toBe(0);
      const all = await store.revokeUserSessions('bob', clock.now()).catch((e: unknown) => e);
      expect((all as ReplicaWaitTimeoutError).sessionIds).toEqual([other.id]);
      // Session creation never waits.
      await login(store, clock, 'carol');
    } finally {
      resume();
    }
    await waitForReplicaLink(replica.port);
    // The retry finds nothing left to delete, but its WAIT still confirms the first write.
    expect(await store.revokeSession(session.id, clock.now())).toBe(false);
  });

  it('a WAIT cut short by the client (command timeout 2 s) is unconfirmed too, not a plain error', async () => {
    const long = createRedisStore({
      client,
      revocationRetentionMs: RETENTION,
      ownsClient: false,
      replicaWait: { replicas: 1, timeoutMs: 5000 },
    });
    const session = await login(long, clock, 'frank');
    const resume = await cutReplica(master.port, replica.pid);
    try {
      const error = await long.revokeSession(session.id, clock.now()).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ReplicaWaitTimeoutError);
      expect((error as ReplicaWaitTimeoutError).sessionIds).toEqual([session.id]);
    } finally {
      resume();
    }
    await waitForReplicaLink(replica.port);
  });

  it('waiting is off with replicas: 0 (one Redis without replicas)', async () => {
    const plain = createRedisStore({ client, revocationRetentionMs: RETENTION, ownsClient: false });
    const session = await login(plain, clock, 'dave');
    const resume = await cutReplica(master.port, replica.pid);
    try {
      expect(await plain.revokeSession(session.id, clock.now())).toBe(true);
    } finally {
      resume();
    }
    await waitForReplicaLink(replica.port);
  });
});

describe('revocations wait for a replica (3×2 cluster: WAIT goes to the node that ran the script)', () => {
  let cluster: RedisCluster;
  let client: Cluster;
  let store: SessionStore;
  const clock = new ManualClock(Date.now());
  beforeAll(async () => {
    cluster = await startRedisCluster();
    await waitForClusterReplicas(cluster);
    client = createRedisClient({ kind: 'cluster', nodes: cluster.nodes }) as Cluster;
    await connectRedis(client);
    store = createRedisStore({
      client,
      revocationRetentionMs: RETENTION,
      ownsClient: false,
      replicaWait: WAIT,
    });
  });
  afterAll(async () => {
    client?.disconnect();
    await cluster?.stop();
  });

  /** A user whose sessions live on another master than the revocation stream. */
  async function userAwayFromStream(): Promise<string> {
    const stream = await ownersOfKey(cluster, keys.stream);
    for (let i = 0; ; i++) {
      const user = `user${i}`;
      if ((await ownersOfKey(cluster, keys.index(user))).master.port !== stream.master.port) return user;
    }
  }

  it('a revocation resolves with both steps replicated', async () => {
    const user = await userAwayFromStream();
    const session = await login(store, clock, user);
    expect(await store.revokeSession(session.id, clock.now())).toBe(true);
  });

  it('times out when the stream slot master cannot replicate (WAIT counted that node, not another)', async () => {
    const user = await userAwayFromStream();
    const session = await login(store, clock, user);
    const { master, replica } = await ownersOfKey(cluster, keys.stream);
    const resume = await cutReplica(master.port, replica.pid);
    try {
      const error = await store.revokeSession(session.id, clock.now()).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ReplicaWaitTimeoutError);
      expect((error as ReplicaWaitTimeoutError).sessionIds).toEqual([session.id]);
    } finally {
      resume();
    }
    await waitForReplicaLink(replica.port);
    // The retry re-announces (the session is still marked) and now confirms.
    expect(await store.revokeSession(session.id, clock.now())).toBe(true);
  });

  it('times out when the user slot master cannot replicate the delete', async () => {
    const user = await userAwayFromStream();
    const session = await login(store, clock, user);
    const { master, replica } = await ownersOfKey(cluster, keys.index(user));
    const resume = await cutReplica(master.port, replica.pid);
    try {
      const error = await store.revokeSession(session.id, clock.now()).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ReplicaWaitTimeoutError);
    } finally {
      resume();
    }
    await waitForReplicaLink(replica.port);
  });
});

describe('why the wait matters: a failover after an unreplicated revocation', () => {
  let redis: RedisSentinel;
  let client: Redis;
  const clock = new ManualClock(Date.now());
  const servers: RedisServer[] = [];
  beforeAll(async () => {
    redis = await startRedisSentinel();
    client = createRedisClient({ kind: 'sentinel', sentinels: redis.sentinels, name: redis.name }) as Redis;
    client.on('error', () => {}); // the failover's reconnects
    await connectRedis(client);
  });
  afterAll(async () => {
    client?.disconnect();
    for (const server of servers) await server.stop();
    await redis?.stop();
  });

  it('without WAIT the revocation is acknowledged and then lost; with WAIT it is never acknowledged', async () => {
    const noWait = createRedisStore({ client, revocationRetentionMs: RETENTION, ownsClient: false });
    const withWait = createRedisStore({
      client,
      revocationRetentionMs: RETENTION,
      ownsClient: false,
      replicaWait: WAIT,
    });
    const lost = await login(noWait, clock, 'erin');
    const kept = await login(noWait, clock, 'erin');
    // The replica has both sessions; then it stops hearing from the master (pitfall 14).
    await waitForReplicaLink(redis.replica.port);
    expect(Number(await client.call('WAIT', 1, 5000))).toBe(1);
    const resume = await cutReplica(redis.master.port, redis.replica.pid);
    let waited: unknown;
    try {
      expect(await noWait.revokeSession(lost.id, clock.now())).toBe(true); // acknowledged
      waited = await withWait.revokeSession(kept.id, clock.now()).catch((e: unknown) => e);
      killRedis(redis.master);
    } finally {
      resume();
    }
    expect(waited).toBeInstanceOf(ReplicaWaitTimeoutError); // never acknowledged: the caller retries
    await waitForSentinelMaster(redis, redis.replica.port);
    // The promoted replica never saw the acknowledged revocation: the session is back.
    expect(await rawCommand(redis.replica.port, ['EXISTS', keys.session('erin', lost.id)])).toContain(':1');
    expect(await rawCommand(redis.replica.port, ['XLEN', keys.stream])).toContain(':0');
    // The unacknowledged one is back too, but its client got a 503 and retries on the new master:
    for (let i = 0; i < 100 && client.status !== 'ready'; i++) await new Promise((r) => setTimeout(r, 100));
    const retried = await retry(
      () => withWait.revokeSession(kept.id, clock.now()).then(() => true),
      20_000,
    ).catch((e: unknown) => e);
    // The new master has no replica left, so the retry cannot be confirmed either (503 again),
    // but it is in force on the new master: the session is gone there.
    expect(retried === true || retried instanceof ReplicaWaitTimeoutError).toBe(true);
    expect(await rawCommand(redis.replica.port, ['EXISTS', keys.session('erin', kept.id)])).toContain(':0');
  }, 60_000);
});

async function waitForSentinelMaster(redis: RedisSentinel, port: number): Promise<void> {
  for (let i = 0; i < 300; i++) {
    const reply = await rawCommand(redis.sentinel.port, ['SENTINEL', 'get-master-addr-by-name', redis.name]);
    const info = await rawCommand(port, ['INFO', 'replication']).catch(() => '');
    if (reply.includes(String(port)) && info.includes('role:master')) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('sentinel did not promote the replica');
}

/** Retries `fn` while it throws something other than `ReplicaWaitTimeoutError`. */
async function retry<T>(fn: () => Promise<T>, timeoutMs: number): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await fn();
    } catch (error) {
      if (error instanceof ReplicaWaitTimeoutError || Date.now() > end) throw error;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}
