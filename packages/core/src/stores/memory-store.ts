import { randomUUID } from 'node:crypto';
import { type Clock, systemClock } from '../lib/clock.ts';
import type { SessionRecord } from '../sessions/types.ts';
import { isValidUserId } from '../tokens/opaque-token.ts';
import type { NewRevocation } from './revocations/entry-format.ts';
import { followRevocations } from './revocations/follower.ts';
import { createRevocationLog } from './revocations/memory-log.ts';
import type { RateLimitResult, RotateRefreshResult, SessionStore, StoredSession } from './session-store.ts';
import {
  assertCreateCommand,
  assertKeyRevocation,
  assertRateLimit,
  assertTime,
  checkRotateInput,
  copySession,
  SESSION_CEILING,
  userIdOfSession,
} from './store-input.ts';

export interface MemoryStoreOptions {
  /** How long an expired session stays readable (as expired) before it is removed (ms). @default 600000 */
  tombstoneMs?: number;
  /** How long revocations stay in the log (ms): longest access-token lifetime + clock tolerance. @default 900000 */
  revocationRetentionMs?: number;
  /** Cap on the revocation log length. @default 100000 */
  maxRevocations?: number;
  /** How often expired entries are swept (ms, real time). @default 60000 */
  sweepIntervalMs?: number;
  /** Real time for TTLs (like Redis's own clock); tests may inject one. @default systemClock */
  ttlClock?: Clock;
}

/** A `SessionStore` in this process's memory, plus counters for metrics and tests. */
export interface MemoryStore extends SessionStore {
  stats(): { sessions: number; indexEntries: number; rateLimitKeys: number; revocations: number };
  /** Keeps only the newest `maxLength` revocations, like `XTRIM … MAXLEN` on the Redis stream. */
  trimRevocations(maxLength: number): void;
}

interface Entry {
  session: StoredSession;
  ph: string;
  pt: number;
  sc: string;
  old: string[];
  /** Real-time deadline (ms): expiresAt - now + tombstone, like the Redis key TTL. */
  deadline: number;
}

const OLD_GENERATIONS = 32;

/**
 * The embedded default store: Maps with TTLs in real time, a sweep timer (unref'd) and a
 * capped revocation log. Same semantics as the Redis store (the conformance suite runs both).
 *
 * @example
 * const store = createMemoryStore({ revocationRetentionMs: 15 * 60_000 });
 */
export function createMemoryStore(options: MemoryStoreOptions = {}): MemoryStore {
  const tomb = options.tombstoneMs ?? 10 * 60_000;
  const retention = options.revocationRetentionMs ?? 15 * 60_000;
  const ttlClock = options.ttlClock ?? systemClock;
  assertTime(tomb, 'tombstoneMs');
  assertTime(retention, 'revocationRetentionMs');
  const sessions = new Map<string, Entry>();
  const indexes = new Map<string, { members: Map<string, number>; deadline: number }>();
  const rates = new Map<string, { hits: Array<{ at: number; id: string }>; deadline: number }>();
  const log = createRevocationLog(retention, options.maxRevocations ?? 100_000);

  function sweep() {
    const real = ttlClock.now();
    for (const [k, v] of sessions) if (v.deadline <= real) sessions.delete(k);
    for (const [k, v] of indexes) if (v.deadline <= real) indexes.delete(k);
    for (const [k, v] of rates) if (v.deadline <= real) rates.delete(k);
  }
  const timer = setInterval(sweep, options.sweepIntervalMs ?? 60_000);
  timer.unref();

  function entryOf(sessionId: string): Entry | undefined {
    const entry = sessions.get(sessionId);
    if (entry && entry.deadline <= ttlClock.now()) {
      sessions.delete(sessionId);
      return undefined;
    }
    return entry;
  }
  const ttlDeadline = (expiresAt: number, now: number) =>
    ttlClock.now() + Math.max(expiresAt - now, 1) + tomb;

  /** Index members of a user after pruning expired scores (Redis: ZREMRANGEBYSCORE -inf now). */
  function indexOf(userId: string, now: number): Map<string, number> {
    const index = indexes.get(userId);
    if (!index || index.deadline <= ttlClock.now()) return new Map();
    for (const [sid, score] of index.members) if (score <= now) index.members.delete(sid);
    return index.members;
  }
  function saveIndex(userId: string, members: Map<string, number>, now: number) {
    for (const [sid, score] of members) if (score <= now) members.delete(sid);
    if (members.size === 0) {
      indexes.delete(userId);
      return;
    }
    const top = Math.max(...members.values());
    indexes.set(userId, { members, deadline: ttlDeadline(top, now) });
  }
  function setExpiry(entry: Entry, expiresAt: number, now: number) {
    entry.session.expiresAt = expiresAt;
    entry.deadline = ttlDeadline(expiresAt, now);
    const members = indexOf(entry.session.userId, now);
    members.set(entry.session.id, expiresAt);
    saveIndex(entry.session.userId, members, now);
  }
  /** Announce, then delete (one synchronous step here). */
  function revoke(userId: string, now: number, entries: NewRevocation[], sids: string[]) {
    for (const entry of entries) log.append(entry, now);
    const members = indexOf(userId, now);
    for (const sid of sids) {
      sessions.delete(sid);
      members.delete(sid);
    }
    saveIndex(userId, members, now);
  }
  const sessionEntry = (s: StoredSession, now: number): NewRevocation => ({
    kind: 'session',
    sessionId: s.id,
    userId: s.userId,
    until: Math.max(s.accessExpiresAt, now),
  });
  const isLive = (entry: Entry | undefined, now: number): entry is Entry =>
    entry !== undefined && entry.session.expiresAt > now;
  const record = (entry: Entry): SessionRecord => copySession(entry.session);

  const store: MemoryStore = {
    async createSession(command) {
      assertCreateCommand(command);
      const { session, now } = command;
      const uid = session.userId;
      const members = indexOf(uid, now);
      const live: StoredSession[] = [];
      for (const sid of [...members.keys()]) {
        if (sid === session.id) continue;
        const entry = entryOf(sid);
        if (!entry) members.delete(sid);
        else if (isLive(entry, now)) live.push(entry.session);
      }
      if (command.concurrency === 'reject' && live.length > 0 && !command.force) {
        return { ok: false, reason: 'session_exists' };
      }
      let victims: StoredSession[] = [];
      const entries: NewRevocation[] = [];
      if (command.concurrency !== 'allow' && live.length > 0) {
        victims = live;
        entries.push({
          kind: 'user',
          userId: uid,
          sessionIds: live.map((s) => s.id),
          before: now,
          until: Math.max(now, ...live.map((s) => s.accessExpiresAt)),
        });
      } else if (command.concurrency === 'allow') {
        const cap =
          command.maxSessions > 0 ? Math.min(command.maxSessions, SESSION_CEILING) : SESSION_CEILING;
        live.sort((a, b) => a.createdAt - b.createdAt || (a.id < b.id ? -1 : 1));
        victims = live.slice(0, Math.max(live.length + 1 - cap, 0));
        for (const v of victims) entries.push(sessionEntry(v, now));
      }
      revoke(
        uid,
        now,
        entries,
        victims.map((v) => v.id),
      );
      const stored: StoredSession = { ...copySession(session), secretHash: command.secretHash };
      const entry: Entry = { session: stored, ph: '', pt: 0, sc: '', old: [], deadline: 0 };
      sessions.set(session.id, entry);
      setExpiry(entry, session.expiresAt, now);
      return { ok: true, revokedSessionIds: victims.map((v) => v.id) };
    },

    async getSession(sessionId) {
      if (!userIdOfSession(sessionId)) return null;
      const entry = entryOf(sessionId);
      return entry ? { ...copySession(entry.session), secretHash: entry.session.secretHash } : null;
    },

    async touchSession(sessionId, now, idleMs, minIntervalMs) {
      assertTime(now, 'now');
      assertTime(idleMs, 'idleMs');
      assertTime(minIntervalMs, 'minIntervalMs');
      if (!userIdOfSession(sessionId)) return null;
      const entry = entryOf(sessionId);
      if (!isLive(entry, now)) return null;
      if (now - entry.session.lastSeenAt >= minIntervalMs) {
        entry.session.lastSeenAt = now;
        setExpiry(entry, Math.min(now + idleMs, entry.session.absoluteExpiresAt), now);
      }
      return record(entry);
    },

    async rotateRefresh(command): Promise<RotateRefreshResult> {
      const wellFormed = checkRotateInput(command);
      const { sessionId, now, presentedHash } = command;
      if (!userIdOfSession(sessionId) || !wellFormed) return { kind: 'invalid' };
      const entry = entryOf(sessionId);
      if (!entry) return { kind: 'invalid' };
      const s = entry.session;
      if (s.expiresAt <= now) return { kind: 'expired' };
      if (presentedHash === s.secretHash) {
        if (command.strict && s.accessExpiresAt > now) return { kind: 'access_token_active' };
        if (entry.ph !== '') entry.old = [entry.ph, ...entry.old].slice(0, OLD_GENERATIONS);
        entry.ph = s.secretHash;
        entry.pt = now;
        entry.sc = command.sealedSuccessor;
        s.secretHash = command.nextHash;
        s.lastSeenAt = now;
        s.accessExpiresAt = Math.max(s.accessExpiresAt, command.accessExpiresAt);
        setExpiry(entry, Math.min(now + command.idleMs, s.absoluteExpiresAt), now);
        return { kind: 'rotated', session: record(entry) };
      }
      let reused = entry.old.includes(presentedHash);
      if (entry.ph !== '' && presentedHash === entry.ph) {
        if (now - entry.pt <= command.graceMs) {
          s.accessExpiresAt = Math.max(s.accessExpiresAt, command.accessExpiresAt);
          return { kind: 'grace', session: record(entry), sealedSuccessor: entry.sc };
        }
        reused = true;
      }
      if (!reused) return { kind: 'invalid' };
      revoke(s.userId, now, [sessionEntry(s, now)], [s.id]);
      return { kind: 'reused' };
    },

    async setAccessExpiry(sessionId, accessExpiresAt, now) {
      assertTime(accessExpiresAt, 'accessExpiresAt');
      assertTime(now, 'now');
      if (!userIdOfSession(sessionId)) return false;
      const entry = entryOf(sessionId);
      if (!isLive(entry, now)) return false;
      entry.session.accessExpiresAt = Math.max(entry.session.accessExpiresAt, accessExpiresAt);
      return true;
    },

    async revokeSession(sessionId, now) {
      assertTime(now, 'now');
      const uid = userIdOfSession(sessionId);
      if (!uid) return false;
      const entry = entryOf(sessionId);
      if (!entry) {
        revoke(uid, now, [], [sessionId]);
        return false;
      }
      revoke(uid, now, [sessionEntry(entry.session, now)], [sessionId]);
      return true;
    },

    async revokeUserSessions(userId, now) {
      assertTime(now, 'now');
      if (!isValidUserId(userId)) return { count: 0, sessionIds: [] };
      const index = indexes.get(userId);
      const found = [...(index && index.deadline > ttlClock.now() ? index.members.keys() : [])]
        .map((sid) => entryOf(sid))
        .filter((e): e is Entry => e !== undefined);
      const until = Math.max(now, ...found.map((e) => e.session.accessExpiresAt));
      const sessionIds = found.map((e) => e.session.id);
      revoke(userId, now, [{ kind: 'user', userId, sessionIds, before: now, until }], sessionIds);
      return { count: found.filter((e) => isLive(e, now)).length, sessionIds };
    },

    async listUserSessions(userId, now) {
      assertTime(now, 'now');
      if (!isValidUserId(userId)) return [];
      const members = indexOf(userId, now);
      const out: SessionRecord[] = [];
      for (const sid of [...members.keys()]) {
        const entry = entryOf(sid);
        if (!entry) members.delete(sid);
        else if (isLive(entry, now)) out.push(record(entry));
      }
      saveIndex(userId, members, now);
      return out.sort((a, b) => a.createdAt - b.createdAt || a.id.localeCompare(b.id));
    },

    async hitRateLimit(key, windowMs, limit, now) {
      assertRateLimit(key, windowMs, limit, now);
      const real = ttlClock.now();
      const current = rates.get(key);
      const hits =
        current && current.deadline > real ? current.hits.filter((h) => h.at > now - windowMs) : [];
      const count = hits.length + 1;
      const allowed = hits.length < limit;
      const hitId = randomUUID();
      if (allowed) hits.push({ at: now, id: hitId });
      rates.set(key, { hits, deadline: real + windowMs });
      const oldest = hits[0]?.at ?? now;
      if (allowed) return { allowed, count, retryAfterMs: 0, hitId };
      return { allowed, count, retryAfterMs: Math.max(oldest + windowMs - now, 1) };
    },

    async cancelRateLimitHit(key, hitId) {
      if (typeof key !== 'string' || typeof hitId !== 'string')
        throw new TypeError('key and hitId must be strings');
      const current = rates.get(key);
      if (current) current.hits = current.hits.filter((h) => h.id !== hitId);
    },

    async hitRateLimits(windows, windowMs, now) {
      for (const w of windows) assertRateLimit(w.key, windowMs, w.limit, now);
      const results: RateLimitResult[] = [];
      for (const w of windows) results.push(await store.hitRateLimit(w.key, windowMs, w.limit, now));
      return results;
    },

    async cancelRateLimitHits(hits) {
      for (const h of hits) await store.cancelRateLimitHit(h.key, h.hitId);
    },

    async announceKeyRevocation(kid, until, now) {
      assertKeyRevocation(kid, until, now);
      return log.append({ kind: 'key', kid, until }, now);
    },

    async readRevocations(afterId, now) {
      assertTime(now, 'now');
      return log.read(afterId, now);
    },

    followRevocations(followOptions) {
      return followRevocations(log.source(), followOptions);
    },

    trimRevocations(maxLength) {
      log.trim(maxLength);
    },

    async ping() {},

    async close() {
      clearInterval(timer);
    },

    stats() {
      let indexEntries = 0;
      for (const index of indexes.values()) indexEntries += index.members.size;
      return { sessions: sessions.size, indexEntries, rateLimitKeys: rates.size, revocations: log.size };
    },
  };
  return store;
}
