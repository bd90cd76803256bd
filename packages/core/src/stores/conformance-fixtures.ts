import { type RedisCluster, type RedisServer, startRedis, startRedisCluster } from '@tessera/testkit';
import type { Cluster, Redis } from 'ioredis';
import { ManualClock } from '../lib/clock.ts';
import type { SessionRecord } from '../sessions/types.ts';
import { generateSecret, generateSessionId, hashSecret } from '../tokens/opaque-token.ts';
import { createMemoryStore, type MemoryStore } from './memory-store.ts';
import { connectRedis, createRedisClient } from './redis/connection.ts';
import { createRedisStore } from './redis/redis-store.ts';
import type { CreateSessionCommand, SessionStore } from './session-store.ts';

/** Test fixtures for the store conformance suite (imported by tests only). */

export const MINUTE = 60_000;
export const HOUR = 60 * MINUTE;
export const IDLE = 24 * HOUR;
export const ABSOLUTE = 30 * 24 * HOUR;
export const ACCESS = 10 * MINUTE;
export const GRACE = 10_000;
export const RETENTION = 15 * MINUTE;

/** One kind of store under test: set up once per file, a fresh empty store per test. */
export interface StoreDriver {
  name: string;
  start(): Promise<void>;
  stop(): Promise<void>;
  /** An empty store (previous data flushed). */
  open(): Promise<SessionStore>;
  /** Members of the user's session index (Redis ZCARD / memory stats). */
  indexSize(store: SessionStore, userId: string): Promise<number>;
  /** Removes every retained revocation (`XTRIM … MAXLEN 0`), as a trim past a reader's position does. */
  trimRevocations(store: SessionStore): Promise<void>;
  /**
   * Restarts the store's Redis empty (no persistence), then waits until the store's client
   * answers again; `undefined` where there is no server to restart (memory).
   */
  restart?: () => Promise<void>;
}

async function untilAnswers(client: Redis | Cluster): Promise<void> {
  for (let i = 0; i < 400; i++) {
    try {
      await client.ping();
      return;
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  }
  throw new Error('redis did not answer after the restart');
}

export function memoryDriver(): StoreDriver {
  return {
    name: 'memory',
    start: async () => {},
    stop: async () => {},
    open: async () => createMemoryStore({ revocationRetentionMs: RETENTION }),
    indexSize: async (store) => (store as MemoryStore).stats().indexEntries,
    trimRevocations: async (store) => (store as MemoryStore).trimRevocations(0),
  };
}

export function redisDriver(): StoreDriver {
  let server: RedisServer;
  let client: Redis;
  return {
    name: 'redis',
    async start() {
      server = await startRedis();
      client = createRedisClient({ kind: 'single', url: server.url }) as Redis;
      await connectRedis(client);
    },
    async stop() {
      client?.disconnect();
      await server?.stop();
    },
    async open() {
      await client.flushall();
      return createRedisStore({ client, revocationRetentionMs: RETENTION, ownsClient: false });
    },
    indexSize: (_store, userId) => client.zcard(`tessera:{u:${userId}}:idx`),
    trimRevocations: async () => {
      await client.xtrim('tessera:revocations', 'MAXLEN', 0);
    },
    async restart() {
      const port = server.port;
      await server.stop();
      server = await startRedis([], port);
      await untilAnswers(client);
    },
  };
}

export function clusterDriver(): StoreDriver {
  let cluster: RedisCluster;
  let client: Cluster;
  return {
    name: 'cluster',
    async start() {
      cluster = await startRedisCluster();
      client = createRedisClient({ kind: 'cluster', nodes: cluster.nodes }) as Cluster;
      await connectRedis(client);
    },
    async stop() {
      client?.disconnect();
      await cluster?.stop();
    },
    async open() {
      await Promise.all(client.nodes('master').map((node) => node.flushall()));
      return createRedisStore({ client, revocationRetentionMs: RETENTION, ownsClient: false });
    },
    indexSize: (_store, userId) => client.zcard(`tessera:{u:${userId}}:idx`),
    trimRevocations: async () => {
      await client.xtrim('tessera:revocations', 'MAXLEN', 0);
    },
    /**
     * A cluster node restarted without persistence comes back without the stream; its
     * `run_id` is not visible through the cluster client, so what the follower sees is the
     * stream's count starting over. Simulated by flushing every master.
     */
    async restart() {
      await Promise.all(client.nodes('master').map((node) => node.flushall()));
    },
  };
}

/** A new session record for `userId` created at the clock's time. */
export function newSession(
  userId: string,
  clock: ManualClock,
  overrides: Partial<SessionRecord> = {},
): SessionRecord {
  const now = clock.now();
  return {
    id: generateSessionId(userId),
    userId,
    roles: ['user'],
    createdAt: now,
    lastSeenAt: now,
    expiresAt: Math.min(now + IDLE, now + ABSOLUTE),
    absoluteExpiresAt: now + ABSOLUTE,
    ip: '203.0.113.7',
    userAgent: 'vitest',
    accessExpiresAt: now + ACCESS,
    ...overrides,
  };
}

/** A secret and its hash, as the session service would make them. */
export function newSecret(): { secret: string; hash: string } {
  const secret = generateSecret();
  return { secret, hash: hashSecret(secret) };
}

export function createCommand(
  session: SessionRecord,
  clock: ManualClock,
  options: Partial<Omit<CreateSessionCommand, 'session'>> = {},
): CreateSessionCommand {
  return {
    session,
    secretHash: newSecret().hash,
    concurrency: 'allow',
    force: false,
    maxSessions: 0,
    now: clock.now(),
    ...options,
  };
}

export { ManualClock };
