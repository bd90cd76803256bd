// `npm run bench -- cluster`: what one Redis shard holds and does, for capacity planning
// (docs/scaling.md). Store-level (no HTTP, no argon2, no JWT signing: those scale with auth
// instances, not with Redis), one Node client process with 64 operations in flight.
// - bytes per session: INFO used_memory delta over N sessions of 5 per user, real browser
//   user agents, with the per-user index; MEMORY USAGE of each part; bytes per stream entry;
// - ops/s for login (create), refresh (rotate), revoke, opaque lookup (HGETALL): one Redis,
//   then a 3-master cluster (3×2, replicas attached), then the cluster with WAIT 1 on revocations.
// Every cluster number is reported next to the single-node number of the same run.

import { randomBytes } from 'node:crypto';
import {
  connectRedis,
  createRedisClient,
  createRedisStore,
  generateSecret,
  generateSessionId,
  hashSecret,
  type RedisClient,
  type SessionRecord,
  type SessionStore,
  sealSuccessor,
} from '@tessera/core/internal';
import { startRedis, startRedisCluster, waitForClusterReplicas } from '@tessera/testkit';
import type { Cluster, Redis } from 'ioredis';
import { ratio } from './lib/results.ts';

const SECONDS = Number(process.env.BENCH_DURATION ?? 3);
const IN_FLIGHT = 64;
const SESSIONS_FOR_MEMORY = 20_000;
const PER_USER = 5;
const IDLE = 24 * 3_600_000;
const ABSOLUTE = 30 * 24 * 3_600_000;
const ACCESS = 10 * 60_000;
const RETENTION = ACCESS + 60_000;
/** Live sessions set aside for the revoke measurement (it stops when they are used up). */
const REVOKE_POOL = 12_000;

/** User agents of current desktop and mobile browsers (what the pages and API really store). */
const USER_AGENTS = [
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36',
  'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Safari/605.1.15',
  'Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0',
  'Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1',
  'Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36',
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0',
];

function userId(): string {
  return `u${randomBytes(20).toString('base64url').replace(/[-_]/g, 'a').slice(0, 32).toLowerCase()}`;
}

function session(uid: string, now: number, i: number): SessionRecord {
  return {
    id: generateSessionId(uid),
    userId: uid,
    roles: ['user'],
    createdAt: now,
    lastSeenAt: now,
    expiresAt: now + IDLE,
    absoluteExpiresAt: now + ABSOLUTE,
    ip: `203.0.113.${i % 250}`,
    userAgent: USER_AGENTS[i % USER_AGENTS.length] as string,
    accessExpiresAt: now + ACCESS,
  };
}

function create(store: SessionStore, record: SessionRecord, secret: string) {
  return store.createSession({
    session: record,
    secretHash: hashSecret(secret),
    concurrency: 'allow',
    force: false,
    maxSessions: 0,
    now: Date.now(),
  });
}

/** Runs `op(i)` with IN_FLIGHT in flight for SECONDS (or `limit` operations); ops/s. */
async function measure(
  op: (i: number) => Promise<unknown>,
  limit = Number.POSITIVE_INFINITY,
): Promise<number> {
  let next = 0;
  let done = 0;
  const end = Date.now() + SECONDS * 1000;
  const started = Date.now();
  await Promise.all(
    Array.from({ length: IN_FLIGHT }, async () => {
      while (Date.now() < end && next < limit) {
        await op(next++);
        done += 1;
      }
    }),
  );
  return Math.round(done / ((Date.now() - started) / 1000));
}

interface Live {
  record: SessionRecord;
  secret: string;
}

/** Login, refresh, revoke and lookup throughput of one deployment. */
async function throughput(store: SessionStore): Promise<Record<string, number>> {
  const live: Live[] = [];
  const users = Array.from({ length: 2000 }, userId);
  const login = await measure(async (i) => {
    const record = session(users[i % users.length] as string, Date.now(), i);
    const secret = generateSecret();
    await create(store, record, secret);
    if (live.length < 200_000) live.push({ record, secret });
  });
  const lookup = await measure((i) => store.getSession((live[i % live.length] as Live).record.id));
  // Each refresh rotates a different session once (a rotation chain per session would be
  // refused under `strict`; `rotate` accepts it, but one per session is the realistic mix).
  let refreshed = 0;
  const refresh = await measure(async (i) => {
    const target = live[i % live.length] as Live;
    const nextSecret = generateSecret();
    const result = await store.rotateRefresh({
      sessionId: target.record.id,
      presentedHash: hashSecret(target.secret),
      nextHash: hashSecret(nextSecret),
      sealedSuccessor: sealSuccessor(nextSecret, target.secret, target.record.id),
      now: Date.now(),
      graceMs: 10_000,
      idleMs: IDLE,
      strict: false,
      accessExpiresAt: Date.now() + ACCESS,
    });
    if (result.kind === 'rotated') {
      target.secret = nextSecret;
      refreshed += 1;
    }
  });
  if (refreshed === 0) throw new Error('no refresh rotated: the bench is broken');
  // Revoke live sessions only (a revocation of a missing session is a cheap no-op): top the
  // pool up first, untimed, and stop when it is used up.
  while (live.length < REVOKE_POOL) {
    await Promise.all(
      Array.from({ length: 500 }, async (_, j) => {
        const record = session(users[(live.length + j) % users.length] as string, Date.now(), j);
        const secret = generateSecret();
        await create(store, record, secret);
        live.push({ record, secret });
      }),
    );
  }
  const pool = live.slice(-REVOKE_POOL);
  const revoke = await measure(async (i) => {
    if (!(await store.revokeSession((pool[i] as Live).record.id, Date.now()))) throw new Error('not revoked');
  }, pool.length);
  return { login, refresh, revoke, lookup };
}

async function usedMemory(node: Redis): Promise<number> {
  return Number(/used_memory:(\d+)/.exec(await node.info('memory'))?.[1] ?? 0);
}

/** Bytes per session on one Redis, with its share of the per-user index, and per revocation entry. */
async function memory(client: Redis, store: SessionStore) {
  await client.flushall();
  const before = await usedMemory(client);
  const created: SessionRecord[] = [];
  const users = Array.from({ length: SESSIONS_FOR_MEMORY / PER_USER }, userId);
  for (let start = 0; start < SESSIONS_FOR_MEMORY; start += 500) {
    await Promise.all(
      Array.from({ length: 500 }, async (_, j) => {
        const i = start + j;
        const record = session(users[i % users.length] as string, Date.now(), i);
        await create(store, record, generateSecret());
        created.push(record);
      }),
    );
  }
  const after = await usedMemory(client);
  const sample = created.slice(0, 200);
  let sessionKey = 0;
  let indexKey = 0;
  for (const record of sample) {
    sessionKey += Number(
      await client.call('MEMORY', 'USAGE', `tessera:{u:${record.userId}}:s:${record.id}`, 'SAMPLES', '0'),
    );
    indexKey +=
      Number(await client.call('MEMORY', 'USAGE', `tessera:{u:${record.userId}}:idx`, 'SAMPLES', '0')) /
      PER_USER;
  }
  // Revocation entries: revoke 2000 sessions, one entry each (stream MEMORY USAGE / entries).
  for (const record of created.slice(0, 2000)) await store.revokeSession(record.id, Date.now());
  const streamBytes = Number(await client.call('MEMORY', 'USAGE', 'tessera:revocations', 'SAMPLES', '0'));
  const userEntries = created.slice(2000, 2000 + 200 * PER_USER).filter((_, i) => i % PER_USER === 0);
  const beforeUser = streamBytes;
  for (const record of userEntries) await store.revokeUserSessions(record.userId, Date.now());
  const afterUser = Number(await client.call('MEMORY', 'USAGE', 'tessera:revocations', 'SAMPLES', '0'));
  return {
    sessions: SESSIONS_FOR_MEMORY,
    perUser: PER_USER,
    bytesPerSessionUsedMemory: Math.round((after - before) / SESSIONS_FOR_MEMORY),
    sessionHashBytes: Math.round(sessionKey / sample.length),
    indexBytesPerSession: Math.round(indexKey / sample.length),
    sessionEntryBytes: Math.round(streamBytes / 2000),
    userEntryBytes: Math.round((afterUser - beforeUser) / userEntries.length),
    sessionsPerGiB: Math.floor(2 ** 30 / ((after - before) / SESSIONS_FOR_MEMORY)),
  };
}

function open(client: RedisClient, wait = 0): SessionStore {
  return createRedisStore({
    client,
    revocationRetentionMs: RETENTION,
    ownsClient: false,
    replicaWait: { replicas: wait, timeoutMs: 1000 },
  });
}

export async function runClusterBench() {
  const single = await startRedis();
  const singleClient = createRedisClient({ kind: 'single', url: single.url }) as Redis;
  let memoryResult: Awaited<ReturnType<typeof memory>>;
  let listpackResult: Awaited<ReturnType<typeof memory>>;
  let singleOps: Record<string, number>;
  try {
    await connectRedis(singleClient);
    memoryResult = await memory(singleClient, open(singleClient));
    console.log('bench: cluster: memory', memoryResult);
    // Browser user agents are longer than hash-max-listpack-value (64 bytes by default), which
    // turns every session hash into a hashtable; measure the compact encoding too.
    await singleClient.config('SET', 'hash-max-listpack-value', '256');
    listpackResult = await memory(singleClient, open(singleClient));
    console.log('bench: cluster: memory with hash-max-listpack-value 256', listpackResult);
    await singleClient.config('SET', 'hash-max-listpack-value', '64');
    await singleClient.flushall();
    singleOps = await throughput(open(singleClient));
    console.log('bench: cluster: single node ops/s', singleOps);
  } finally {
    singleClient.disconnect();
    await single.stop();
  }
  const cluster = await startRedisCluster();
  const clusterClient = createRedisClient({ kind: 'cluster', nodes: cluster.nodes }) as Cluster;
  let clusterOps: Record<string, number>;
  let waitOps: Record<string, number>;
  try {
    await waitForClusterReplicas(cluster);
    await connectRedis(clusterClient);
    clusterOps = await throughput(open(clusterClient));
    console.log('bench: cluster: 3-master cluster ops/s', clusterOps);
    await Promise.all(clusterClient.nodes('master').map((n) => n.flushall()));
    waitOps = await throughput(open(clusterClient, 1));
    console.log('bench: cluster: 3-master cluster, WAIT 1 on revocations, ops/s', waitOps);
  } finally {
    clusterClient.disconnect();
    await cluster.stop();
  }
  const rows = Object.keys(singleOps).map((op) => ({
    op,
    singlePerSec: singleOps[op] ?? 0,
    clusterPerSec: clusterOps[op] ?? 0,
    clusterPerShardPerSec: Math.round((clusterOps[op] ?? 0) / 3),
    clusterRatio: ratio(clusterOps[op] ?? 0, singleOps[op] ?? 0),
    clusterWaitPerSec: waitOps[op] ?? 0,
    clusterWaitRatio: ratio(waitOps[op] ?? 0, singleOps[op] ?? 0),
  }));
  return {
    note: 'one Node client process, 64 operations in flight, shared 2-core machine: Redis servers and the client compete for CPU, so the cluster ratio is a floor, not what 3 machines give',
    secondsPerMeasurement: SECONDS,
    memory: memoryResult,
    memoryListpack256: listpackResult,
    throughput: rows,
  };
}
