import { randomUUID } from 'node:crypto';
import { Cluster } from 'ioredis';
import { StoreUnavailableError } from '../../errors/errors.ts';
import type { RevocationEntry, SessionRecord } from '../../sessions/types.ts';
import { isValidUserId } from '../../tokens/opaque-token.ts';
import { DEFAULT_KEY_PREFIX, parseRevocationEntry } from '../revocations/entry-format.ts';
import { followRevocations } from '../revocations/follower.ts';
import { compareStreamIdPairs, parseStreamId } from '../revocations/stream-id.ts';
import type { SessionReader, SessionStore } from '../session-store.ts';
import {
  assertCreateCommand,
  assertRateLimit,
  assertTime,
  checkRotateInput,
  userIdOfSession,
} from '../store-input.ts';
import {
  openRedisClient,
  type RedisClient,
  type RedisConnectionConfig,
  waitUntilReady,
} from './connection.ts';
import { defineScripts, type RunScript } from './lua-scripts.ts';
import { createRedisKeys, type RedisKeys } from './redis-keys.ts';
import { createRedisRevocationSource } from './redis-revocation-source.ts';
import { asArray, asEntries, asStrings, flattenHash } from './script-replies.ts';
import { decodeSessionHash, decodeSessionValues, encodeSessionFields, toRecord } from './session-hash.ts';

export interface RedisStoreOptions {
  /** An ioredis client (`createRedisClient`): single, sentinel (both `Redis`) or `Cluster`. */
  client: RedisClient;
  /** @default 'tessera:' */
  keyPrefix?: string;
  /** How long revocations stay on the stream (ms): longest access-token lifetime + clock tolerance. */
  revocationRetentionMs: number;
  /** How long an expired session stays readable (as expired) before Redis removes it (ms). @default 600000 */
  tombstoneMs?: number;
  /** `close()` quits the client. @default true */
  ownsClient?: boolean;
}

const DEFAULT_TOMBSTONE_MS = 10 * 60_000;

function unavailable(cause: unknown): StoreUnavailableError {
  return new StoreUnavailableError('session store unavailable', { cause });
}

/**
 * The Redis session store. On one Redis (or a sentinel master) every method is one EVALSHA;
 * on a Redis Cluster a revocation is three steps — mark (`rv=1`), announce on the stream
 * slot, delete — each idempotent. Layout: docs/redis-layout.md.
 *
 * @example
 * const client = createRedisClient({ kind: 'single', url: 'redis://127.0.0.1:6379' });
 * await connectRedis(client);
 * const store = createRedisStore({ client, revocationRetentionMs: 15 * 60_000 });
 */
export function createRedisStore(options: RedisStoreOptions): SessionStore {
  const { client } = options;
  const retention = options.revocationRetentionMs;
  const tomb = options.tombstoneMs ?? DEFAULT_TOMBSTONE_MS;
  assertTime(retention, 'revocationRetentionMs');
  assertTime(tomb, 'tombstoneMs');
  if (retention < 1) throw new TypeError('revocationRetentionMs must be >= 1');
  const keys = createRedisKeys(options.keyPrefix ?? DEFAULT_KEY_PREFIX);
  const run = defineScripts(client);
  const single = !(client instanceof Cluster);
  const mode = single ? 1 : 0;
  /** KEYS of a revoking script: the stream is only declared where it can be touched (single Redis). */
  const withStream = (userKeys: string[]) => (single ? [...userKeys, keys.stream] : userKeys);
  /** The ARGV head every revoking script shares: mode, clock, TTLs, then whose keys. */
  const revokingArgs = (now: number, uid: string, ...rest: Array<string | number>) => [
    mode,
    now,
    tomb,
    retention,
    keys.user(uid),
    uid,
    ...rest,
  ];

  const call = callStore;
  const reads = readMethods(client, keys, run, tomb);

  /** Cluster steps 2 and 3: announce on the stream slot, then delete on the user slot. */
  async function finishRevocation(userId: string, now: number, entries: string[][], sids: string[]) {
    if (single || entries.length + sids.length === 0) return;
    const flat = entries.flatMap((fields) => [String(fields.length), ...fields]);
    if (flat.length > 0) await call(() => run('announce', [keys.stream], [now, retention, ...flat]));
    if (sids.length === 0) return;
    const sessionKeys = sids.map((sid) => keys.session(userId, sid));
    await call(() => run('delete', [keys.index(userId), ...sessionKeys], [now, tomb, ...sids]));
  }

  const store: SessionStore = {
    async createSession(command) {
      assertCreateCommand(command);
      const { session, now } = command;
      const uid = session.userId;
      const reply = asArray(
        await call(() =>
          run(
            'create',
            withStream([keys.index(uid), keys.session(uid, session.id)]),
            revokingArgs(now, uid, session.id, command.concurrency)
              .concat([command.force ? 1 : 0, command.maxSessions])
              .concat(encodeSessionFields(session, command.secretHash)),
          ),
        ),
      );
      if (reply[0] === 'exists') return { ok: false, reason: 'session_exists' };
      await finishRevocation(uid, now, asEntries(reply[2]), asStrings(reply[3]));
      return { ok: true, revokedSessionIds: asStrings(reply[1]) };
    },

    getSession: reads.getSession,
    touchSession: reads.touchSession,
    followRevocations: reads.followRevocations,

    async rotateRefresh(command) {
      const wellFormed = checkRotateInput(command);
      const { sessionId, now } = command;
      const uid = userIdOfSession(sessionId);
      if (!uid || !wellFormed) return { kind: 'invalid' };
      const reply = asArray(
        await call(() =>
          run('rotate', withStream([keys.session(uid, sessionId), keys.index(uid)]), [
            ...revokingArgs(now, uid, sessionId),
            command.presentedHash,
            command.nextHash,
            command.sealedSuccessor,
            command.graceMs,
            command.idleMs,
            command.strict ? 1 : 0,
            command.accessExpiresAt,
          ]),
        ),
      );
      switch (reply[0]) {
        case 'rotated': {
          const session = decodeSessionValues(sessionId, reply[1]);
          return session ? { kind: 'rotated', session } : { kind: 'invalid' };
        }
        case 'grace': {
          const session = decodeSessionValues(sessionId, reply[2]);
          return session
            ? { kind: 'grace', session, sealedSuccessor: String(reply[1]) }
            : { kind: 'invalid' };
        }
        case 'reused':
          await finishRevocation(uid, now, asEntries(reply[1]), asStrings(reply[2]));
          return { kind: 'reused' };
        case 'expired':
          return { kind: 'expired' };
        case 'access_token_active':
          return { kind: 'access_token_active' };
        default:
          return { kind: 'invalid' };
      }
    },

    async setAccessExpiry(sessionId, accessExpiresAt, now) {
      assertTime(accessExpiresAt, 'accessExpiresAt');
      assertTime(now, 'now');
      const uid = userIdOfSession(sessionId);
      if (!uid) return false;
      const reply = await call(() =>
        run('set-access', [keys.session(uid, sessionId)], [now, accessExpiresAt]),
      );
      return reply === 1;
    },

    async revokeSession(sessionId, now) {
      assertTime(now, 'now');
      const uid = userIdOfSession(sessionId);
      if (!uid) return false;
      const reply = asArray(
        await call(() =>
          run('revoke-session', withStream([keys.session(uid, sessionId), keys.index(uid)]), [
            ...revokingArgs(now, uid, sessionId),
          ]),
        ),
      );
      if (reply[0] !== 1) return false;
      await finishRevocation(uid, now, asEntries(reply[1]), asStrings(reply[2]));
      return true;
    },

    async revokeUserSessions(userId, now) {
      assertTime(now, 'now');
      if (!isValidUserId(userId)) return { count: 0, sessionIds: [] };
      const reply = asArray(
        await call(() => run('revoke-user', withStream([keys.index(userId)]), revokingArgs(now, userId))),
      );
      const sessionIds = asStrings(reply[2]);
      await finishRevocation(userId, now, asEntries(reply[1]), sessionIds);
      return { count: Number(reply[0]) || 0, sessionIds };
    },

    async listUserSessions(userId, now) {
      assertTime(now, 'now');
      if (!isValidUserId(userId)) return [];
      const reply = await call(() => run('list', [keys.index(userId)], [now, tomb, keys.user(userId)]));
      const sessions: SessionRecord[] = [];
      for (const item of asArray(reply)) {
        const [sid, hash] = asArray(item);
        const stored = decodeSessionHash(String(sid), hash);
        if (stored && stored.expiresAt > now) sessions.push(toRecord(stored));
      }
      return sessions.sort((a, b) => a.createdAt - b.createdAt || a.id.localeCompare(b.id));
    },

    async hitRateLimit(key, windowMs, limit, now) {
      assertRateLimit(key, windowMs, limit, now);
      const reply = asArray(
        await call(() => run('rate-limit', [keys.rateLimit(key)], [now, windowMs, limit, randomUUID()])),
      );
      return { allowed: reply[0] === 1, count: Number(reply[1]), retryAfterMs: Number(reply[2]) };
    },

    async readRevocations(afterId, now) {
      assertTime(now, 'now');
      const after = parseStreamId(afterId);
      if (!after) throw new TypeError('afterId must be a stream id (<ms>-<seq>) or 0');
      const oldest: [number, number] = [Math.max(now - retention, 0), 0];
      const start = compareStreamIdPairs(after, oldest) < 0 ? `${oldest[0]}-0` : `(${after[0]}-${after[1]}`;
      const raw = await call(() => client.xrange(keys.stream, start, '+'));
      const entries: RevocationEntry[] = [];
      for (const [id, fields] of raw) {
        const entry = parseRevocationEntry(id, fields);
        if (entry) entries.push(entry);
      }
      return entries;
    },

    async ping() {
      await call(() => client.ping());
    },

    async close() {
      if (options.ownsClient === false) return;
      try {
        await client.quit();
      } catch {
        client.disconnect();
      }
    },
  };
  return store;
}

async function callStore<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (error) {
    throw unavailable(error);
  }
}

/** The store's read side (and the throttled touch), shared by the store and the reader. */
function readMethods(
  client: RedisClient,
  keys: RedisKeys,
  run: RunScript,
  tomb: number,
): Omit<SessionReader, 'close'> {
  return {
    async getSession(sessionId) {
      const uid = userIdOfSession(sessionId);
      if (!uid) return null;
      const hash = await callStore(() => client.hgetall(keys.session(uid, sessionId)));
      return decodeSessionHash(sessionId, flattenHash(hash));
    },

    async touchSession(sessionId, now, idleMs, minIntervalMs) {
      assertTime(now, 'now');
      assertTime(idleMs, 'idleMs');
      assertTime(minIntervalMs, 'minIntervalMs');
      const uid = userIdOfSession(sessionId);
      if (!uid) return null;
      const reply = await callStore(() =>
        run(
          'touch',
          [keys.session(uid, sessionId), keys.index(uid)],
          [now, tomb, sessionId, idleMs, minIntervalMs],
        ),
      );
      const stored = decodeSessionHash(sessionId, reply);
      return stored ? toRecord(stored) : null;
    },

    followRevocations(options) {
      return followRevocations(createRedisRevocationSource(client, keys.stream), options);
    },
  };
}

export interface RedisSessionReaderOptions {
  /** A client (not closed by the reader), or where Redis is (a fail-fast client the reader owns). */
  redis: RedisClient | RedisConnectionConfig;
  /** @default 'tessera:' */
  keyPrefix?: string;
  /** How long `open` waits for Redis (ms). @default 5000 */
  connectTimeoutMs?: number;
  /** Kept for an expired session the touch finds (ms). @default 600000 */
  tombstoneMs?: number;
}

/**
 * A guard's view of the Redis store: follow revocations, look sessions up, and the throttled
 * touch. It cannot create, change or revoke a session. Resolves once Redis answers.
 *
 * @example
 * const reader = await openRedisSessionReader({ redis: { kind: 'single', url: 'redis://127.0.0.1:6379' } });
 * const session = await reader.getSession('alice.0123456789abcdefghijkl');
 */
export async function openRedisSessionReader(options: RedisSessionReaderOptions): Promise<SessionReader> {
  const { client, owned } = openRedisClient(options.redis);
  const tomb = options.tombstoneMs ?? DEFAULT_TOMBSTONE_MS;
  assertTime(tomb, 'tombstoneMs');
  try {
    await waitUntilReady(client, options.connectTimeoutMs);
  } catch (error) {
    if (owned) client.disconnect();
    throw error;
  }
  const keys = createRedisKeys(options.keyPrefix ?? DEFAULT_KEY_PREFIX);
  return {
    ...readMethods(client, keys, defineScripts(client), tomb),
    async close() {
      if (owned) client.disconnect();
    },
  };
}
