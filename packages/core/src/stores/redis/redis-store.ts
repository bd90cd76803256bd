import { randomUUID } from 'node:crypto';
import { Cluster, type Redis, ReplyError } from 'ioredis';
import { StoreUnavailableError } from '../../errors/errors.ts';
import type { RevocationEntry, SessionRecord } from '../../sessions/types.ts';
import { isValidUserId } from '../../tokens/opaque-token.ts';
import { DEFAULT_KEY_PREFIX, parseRevocationEntry, revocationFields } from '../revocations/entry-format.ts';
import { followRevocations } from '../revocations/follower.ts';
import { parseStreamId } from '../revocations/stream-id.ts';
import type { SessionReader, SessionStore } from '../session-store.ts';
import {
  assertCreateCommand,
  assertKeyRevocation,
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
import { type ReplicaWaitOptions, runOnSlotAndWait, waitOnConnection } from './replica-wait.ts';
import { asArray, asEntries, asStrings, flattenHash } from './script-replies.ts';
import { decodeSessionHash, decodeSessionValues, encodeSessionFields, toRecord } from './session-hash.ts';
import { enqueueTouch } from './touch-queue.ts';

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
  /**
   * Revoking writes wait for this many replicas (`WAIT`) before they resolve; on a timeout
   * they throw `ReplicaWaitTimeoutError` (503). Session creation and touches never wait
   * (unless the creation revokes other sessions). @default `{ replicas: 0 }` (no waiting)
   */
  replicaWait?: ReplicaWaitOptions;
}

const DEFAULT_TOMBSTONE_MS = 10 * 60_000;

function unavailable(cause: unknown): StoreUnavailableError {
  return new StoreUnavailableError('session store unavailable', { cause });
}

/** A queued touch that failed: `NOPERM` (the error code Redis puts first) is an ACL refusal. */
function touchFailed(cause: unknown): StoreUnavailableError {
  const refused = cause instanceof ReplyError && (cause as Error).message.startsWith('NOPERM');
  const message = refused ? 'the session touch was refused by a Redis ACL' : 'session store unavailable';
  return new StoreUnavailableError(message, { cause });
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
  const wait: ReplicaWaitOptions = options.replicaWait ?? { replicas: 0, timeoutMs: 0 };
  if (!Number.isInteger(wait.replicas) || wait.replicas < 0)
    throw new TypeError('replicaWait.replicas must be an integer >= 0');
  assertTime(wait.timeoutMs, 'replicaWait.timeoutMs');
  if (wait.replicas > 0 && wait.timeoutMs < 1) throw new TypeError('replicaWait.timeoutMs must be >= 1');
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
  const reads = readMethods(client, keys, run, tomb, finishMarked);

  /**
   * A revoking script. One Redis: the script announces and deletes atomically, then `WAIT`
   * on its connection confirms a replica has it. `victimsOf` names the sessions it revoked.
   */
  async function revoking(script: () => Promise<unknown>, victimsOf: (reply: unknown[]) => string[]) {
    if (!single || wait.replicas === 0) return asArray(await call(script));
    const socket = (client as Redis).stream;
    const reply = asArray(await call(script));
    await confirmed(() => waitOnConnection(client as Redis, socket, wait, victimsOf(reply)));
    return reply;
  }

  /** Passes a `ReplicaWaitTimeoutError` through (already a `StoreUnavailableError`). */
  async function confirmed<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (error) {
      if (error instanceof StoreUnavailableError) throw error;
      throw unavailable(error);
    }
  }

  /**
   * Cluster steps 2 and 3: announce on the stream slot, then delete on the user slot, each
   * followed by `WAIT` on the node that ran it (the announcement is what guards rely on; the
   * delete is what the auth service relies on).
   */
  async function finishRevocation(userId: string, now: number, entries: string[][], sids: string[]) {
    if (single || entries.length + sids.length === 0) return;
    const cluster = client as Cluster;
    const flat = entries.flatMap((fields) => [String(fields.length), ...fields]);
    if (flat.length > 0) {
      await confirmed(() =>
        runOnSlotAndWait(cluster, wait, 'announce', [keys.stream], [now, retention, ...flat], sids),
      );
    }
    if (sids.length === 0) return;
    const sessionKeys = sids.map((sid) => keys.session(userId, sid));
    await confirmed(() =>
      runOnSlotAndWait(
        cluster,
        wait,
        'delete',
        [keys.index(userId), ...sessionKeys],
        [now, tomb, ...sids],
        sids,
      ),
    );
  }

  /**
   * A session marked `rv=1` whose revocation was never announced (the stream's node failed
   * between the steps): run the revocation again — mark (idempotent), announce, delete — so
   * any later attempt finishes it. A failure here is `StoreUnavailableError` (retry later).
   */
  async function finishMarked(uid: string, sessionId: string, now: number): Promise<void> {
    const reply = asArray(
      await call(() =>
        run('revoke-session', withStream([keys.session(uid, sessionId), keys.index(uid)]), [
          ...revokingArgs(now, uid, sessionId),
        ]),
      ),
    );
    if (reply[0] === 1) await finishRevocation(uid, now, asEntries(reply[1]), asStrings(reply[2]));
  }

  const store: SessionStore = {
    async createSession(command) {
      assertCreateCommand(command);
      const { session, now } = command;
      const uid = session.userId;
      const script = () =>
        run(
          'create',
          withStream([keys.index(uid), keys.session(uid, session.id)]),
          revokingArgs(now, uid, session.id, command.concurrency)
            .concat([command.force ? 1 : 0, command.maxSessions])
            .concat(encodeSessionFields(session, command.secretHash)),
        );
      // Creation alone never waits for replicas (a lost login means logging in again); one
      // that may revoke other sessions (replace, max sessions) does.
      const mayRevoke = command.concurrency === 'replace' || command.maxSessions > 0;
      const reply = mayRevoke
        ? await revoking(script, (r) => (r[0] === 'exists' ? [] : asStrings(r[1])))
        : asArray(await call(script));
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
      const socket = single ? (client as Redis).stream : undefined;
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
          if (single) await confirmed(() => waitOnConnection(client as Redis, socket, wait, [sessionId]));
          await finishRevocation(uid, now, asEntries(reply[1]), asStrings(reply[2]));
          return { kind: 'reused' };
        case 'marked':
          // A revocation (logout, reuse detection, admin) stopped before its announcement.
          await finishMarked(uid, sessionId, now);
          return { kind: 'invalid' };
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
      const reply = await revoking(
        () =>
          run('revoke-session', withStream([keys.session(uid, sessionId), keys.index(uid)]), [
            ...revokingArgs(now, uid, sessionId),
          ]),
        () => [sessionId],
      );
      if (reply[0] !== 1) return false;
      await finishRevocation(uid, now, asEntries(reply[1]), asStrings(reply[2]));
      return true;
    },

    async revokeUserSessions(userId, now) {
      assertTime(now, 'now');
      if (!isValidUserId(userId)) return { count: 0, sessionIds: [] };
      const reply = await revoking(
        () => run('revoke-user', withStream([keys.index(userId)]), revokingArgs(now, userId)),
        (r) => asStrings(r[2]),
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
      const hitId = randomUUID();
      const reply = asArray(
        await call(() => run('rate-limit', [keys.rateLimit(key)], [now, windowMs, limit, hitId])),
      );
      const allowed = reply[0] === 1;
      return {
        allowed,
        count: Number(reply[1]),
        retryAfterMs: Number(reply[2]),
        ...(allowed ? { hitId } : {}),
      };
    },

    async cancelRateLimitHit(key, hitId) {
      if (typeof key !== 'string' || typeof hitId !== 'string')
        throw new TypeError('key and hitId must be strings');
      await call(() => run('rate-limit', [keys.rateLimit(key)], [0, 1, 1, hitId, 'undo']));
    },

    async hitRateLimits(windows, windowMs, now) {
      for (const w of windows) assertRateLimit(w.key, windowMs, w.limit, now);
      // A Cluster puts each window in its own slot: one script per window there.
      if (!single) return Promise.all(windows.map((w) => store.hitRateLimit(w.key, windowMs, w.limit, now)));
      const hitId = randomUUID();
      const reply = asArray(
        await call(() =>
          run(
            'rate-limits',
            windows.map((w) => keys.rateLimit(w.key)),
            [now, windowMs, hitId, ...windows.map((w) => w.limit)],
          ),
        ),
      );
      return windows.map((_, i) => {
        const allowed = reply[3 * i] === 1;
        return {
          allowed,
          count: Number(reply[3 * i + 1]),
          retryAfterMs: Number(reply[3 * i + 2]),
          ...(allowed ? { hitId } : {}),
        };
      });
    },

    async cancelRateLimitHits(hits) {
      for (const h of hits) {
        if (typeof h.key !== 'string' || typeof h.hitId !== 'string')
          throw new TypeError('key and hitId must be strings');
      }
      if (hits.length === 0) return;
      if (!single) {
        await Promise.all(hits.map((h) => store.cancelRateLimitHit(h.key, h.hitId)));
        return;
      }
      await call(() =>
        run(
          'rate-limits',
          hits.map((h) => keys.rateLimit(h.key)),
          ['undo', ...hits.map((h) => h.hitId)],
        ),
      );
    },

    async announceKeyRevocation(kid, until, now) {
      assertKeyRevocation(kid, until, now);
      const fields = revocationFields({ kind: 'key', kid, until });
      const ids = asArray(
        await call(() => run('announce', [keys.stream], [now, retention, fields.length, ...fields])),
      );
      return String(ids[0]);
    },

    async readRevocations(afterId, now) {
      assertTime(now, 'now');
      const after = parseStreamId(afterId);
      if (!after) throw new TypeError('afterId must be a stream id (<ms>-<seq>) or 0');
      // Everything retained: writers trim entries by their own `until`, not by this reader's
      // retention (a reader with a shorter TESSERA_ACCESS_TTL must still see long-lived ones).
      const start = after[0] === 0 && after[1] === 0 ? '-' : `(${after[0]}-${after[1]}`;
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

/**
 * The store's read side (and the throttled touch), shared by the store and the reader. A
 * session marked `rv=1` (a revocation begun but maybe not announced) reads as gone; the store
 * passes `onMarked` to finish that revocation first (the read-only reader cannot).
 */
function readMethods(
  client: RedisClient,
  keys: RedisKeys,
  run: RunScript,
  tomb: number,
  onMarked?: (uid: string, sessionId: string, now: number) => Promise<void>,
): Omit<SessionReader, 'close'> {
  return {
    async getSession(sessionId) {
      const uid = userIdOfSession(sessionId);
      if (!uid) return null;
      const hash = await callStore(() => client.hgetall(keys.session(uid, sessionId)));
      if (hash.rv === '1') {
        await onMarked?.(uid, sessionId, Date.now());
        return null;
      }
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
      if (reply === 'rv') {
        await onMarked?.(uid, sessionId, now);
        return null;
      }
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
 * touch. It cannot create, change or revoke a session: its `touchSession` appends the touch
 * to a touch queue (`<prefix>{tq:n}`) that the auth service applies (`startTouchApplier`), so
 * a guard's Redis user needs no write access to sessions (`tessera redis acl`), and resolves
 * `null`. A touch that fails rejects with `StoreUnavailableError` (the message tells an ACL
 * refusal from an unreachable Redis). Resolves once Redis answers.
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
  const prefix = options.keyPrefix ?? DEFAULT_KEY_PREFIX;
  const keys = createRedisKeys(prefix);
  return {
    ...readMethods(client, keys, defineScripts(client), tomb),
    async touchSession(sessionId, now, idleMs, minIntervalMs) {
      assertTime(now, 'now');
      assertTime(idleMs, 'idleMs');
      assertTime(minIntervalMs, 'minIntervalMs');
      if (!userIdOfSession(sessionId)) return null;
      try {
        await enqueueTouch(client, prefix, sessionId, now);
      } catch (error) {
        throw touchFailed(error);
      }
      return null;
    },
    async close() {
      if (owned) client.disconnect();
    },
  };
}
