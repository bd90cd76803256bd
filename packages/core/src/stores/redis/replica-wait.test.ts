import {
  cutReplica,
  ownersOfKey,
  type RedisCluster,
  type RedisServer,
  rawCommand,
  startRedis,
  startRedisCluster,
  waitForClusterReplicas,
  waitForReplicaLink,
} from '@tessera/testkit';
import type { Cluster, Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StoreUnavailableError } from '../../errors/errors.ts';
import { generateSecret, hashSecret } from '../../tokens/opaque-token.ts';
import { createCommand, ManualClock, newSession, RETENTION } from '../conformance-fixtures.ts';
import type { SessionStore } from '../session-store.ts';
import { connectRedis, createRedisClient } from './connection.ts';
import { createRedisKeys } from './redis-keys.ts';
import { createRedisStore } from './redis-store.ts';
import { ReplicaWaitTimeoutError } from './replica-wait.ts';

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
