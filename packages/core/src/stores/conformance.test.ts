import { waitFor } from '@tessera/testkit';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { sealSuccessor } from '../tokens/successor-box.ts';
import {
  ACCESS,
  clusterDriver,
  createCommand,
  GRACE,
  HOUR,
  IDLE,
  ManualClock,
  MINUTE,
  memoryDriver,
  newSecret,
  newSession,
  RETENTION,
  redisDriver,
} from './conformance-fixtures.ts';
import type { RevocationFollower, RevocationPosition } from './revocations/follower.ts';
import type { RotateRefreshCommand, SessionStore } from './session-store.ts';

const drivers = [memoryDriver(), redisDriver(), clusterDriver()];

describe.each(drivers)('SessionStore conformance: $name', (driver) => {
  let store: SessionStore;
  let clock: ManualClock;
  beforeAll(() => driver.start());
  afterAll(() => driver.stop());
  beforeEach(async () => {
    clock = new ManualClock();
    store = await driver.open();
  });
  afterEach(() => store.close());

  async function login(userId = 'alice', options: Parameters<typeof createCommand>[2] = {}) {
    const session = newSession(userId, clock);
    const secret = newSecret();
    const result = await store.createSession(
      createCommand(session, clock, { secretHash: secret.hash, ...options }),
    );
    return { session, secret, result };
  }
  function rotation(sessionId: string, presentedHash: string, extra: Partial<RotateRefreshCommand> = {}) {
    const next = newSecret();
    const command: RotateRefreshCommand = {
      sessionId,
      presentedHash,
      nextHash: next.hash,
      sealedSuccessor: sealSuccessor(`tsr_${sessionId}.${next.secret}`, 'predecessor', sessionId),
      now: clock.now(),
      graceMs: GRACE,
      idleMs: IDLE,
      strict: false,
      accessExpiresAt: clock.now() + ACCESS,
      ...extra,
    };
    return { command, next };
  }

  describe('create, get, list', () => {
    it('creates a session that get and list return', async () => {
      const a = await login();
      expect(a.result).toEqual({ ok: true, revokedSessionIds: [] });
      clock.advance(1000);
      const b = await login();
      expect(await store.getSession(a.session.id)).toEqual({ ...a.session, secretHash: a.secret.hash });
      const listed = await store.listUserSessions('alice', clock.now());
      expect(listed).toEqual([a.session, b.session]);
      expect(listed[0]).not.toHaveProperty('secretHash');
      expect(await store.listUserSessions('bob', clock.now())).toEqual([]);
    });

    it('answers null / false / [] for unknown and malformed ids', async () => {
      await login();
      for (const id of ['', 'alice', 'alice.short', 'x'.repeat(1_000_000), 'a b.cccccccccccccccccccccc']) {
        expect(await store.getSession(id)).toBeNull();
        expect(await store.touchSession(id, clock.now(), IDLE, 0)).toBeNull();
        expect(await store.revokeSession(id, clock.now())).toBe(false);
        expect(await store.setAccessExpiry(id, clock.now(), clock.now())).toBe(false);
        const { command } = rotation(id, newSecret().hash, { sealedSuccessor: 'sealed' });
        expect((await store.rotateRefresh(command)).kind).toBe('invalid');
      }
      expect(await store.getSession(newSession('alice', clock).id)).toBeNull();
      expect(await store.listUserSessions('not a user', clock.now())).toEqual([]);
      expect(await store.revokeUserSessions('x'.repeat(1_000_000), clock.now())).toEqual({
        count: 0,
        sessionIds: [],
      });
    });

    it('refuses a malformed create with TypeError', async () => {
      const session = newSession('alice', clock);
      await expect(store.createSession(createCommand({ ...session, userId: 'bob' }, clock))).rejects.toThrow(
        TypeError,
      );
      await expect(store.createSession(createCommand(session, clock, { secretHash: '' }))).rejects.toThrow(
        TypeError,
      );
      await expect(store.createSession(createCommand(session, clock, { now: Number.NaN }))).rejects.toThrow(
        TypeError,
      );
    });
  });

  describe('concurrency policies', () => {
    it('reject: refuses while a live session exists; force revokes the others with one user entry', async () => {
      const a = await login('alice', { concurrency: 'reject' });
      const b = await login('bob', { concurrency: 'reject' });
      expect(b.result.ok).toBe(true);
      clock.advance(1000);
      expect((await login('alice', { concurrency: 'reject' })).result).toEqual({
        ok: false,
        reason: 'session_exists',
      });
      expect(await store.listUserSessions('alice', clock.now())).toHaveLength(1);
      const forced = await login('alice', { concurrency: 'reject', force: true });
      expect(forced.result).toEqual({ ok: true, revokedSessionIds: [a.session.id] });
      expect(await store.getSession(a.session.id)).toBeNull();
      expect(await store.getSession(b.session.id)).not.toBeNull();
      const entries = await store.readRevocations('0', clock.now());
      expect(entries).toEqual([
        {
          kind: 'user',
          id: expect.stringMatching(new RegExp(`^${clock.now()}-\\d+$`)),
          userId: 'alice',
          sessionIds: [a.session.id],
          before: clock.now(),
          until: a.session.accessExpiresAt,
        },
      ]);
    });

    it('reject: an expired session does not block a login', async () => {
      await login('alice', { concurrency: 'reject' });
      clock.advance(IDLE);
      expect((await login('alice', { concurrency: 'reject' })).result).toEqual({
        ok: true,
        revokedSessionIds: [],
      });
      expect(await store.readRevocations('0', clock.now())).toEqual([]);
    });

    it('replace: a new login revokes every other session (one entry)', async () => {
      const a = await login();
      clock.advance(1000);
      const b = await login();
      clock.advance(1000);
      const c = await login('alice', { concurrency: 'replace' });
      expect(c.result.ok && [...c.result.revokedSessionIds].sort()).toEqual(
        [a.session.id, b.session.id].sort(),
      );
      expect(await store.listUserSessions('alice', clock.now())).toEqual([c.session]);
      const entries = await store.readRevocations('0', clock.now());
      expect(entries).toHaveLength(1);
      expect(entries[0]).toMatchObject({ kind: 'user', userId: 'alice', before: clock.now() });
    });

    it('max sessions: the oldest sessions are revoked, one session entry each', async () => {
      const made = [];
      for (let i = 0; i < 3; i++) {
        made.push(await login('alice', { maxSessions: 3 }));
        clock.advance(1000);
      }
      expect(made.every((m) => m.result.ok)).toBe(true);
      const fourth = await login('alice', { maxSessions: 3 });
      expect(fourth.result).toEqual({ ok: true, revokedSessionIds: [made[0]?.session.id] });
      const listed = await store.listUserSessions('alice', clock.now());
      expect(listed.map((s) => s.id)).toEqual([made[1], made[2], fourth].map((m) => m?.session.id));
      const fifth = await login('alice', { maxSessions: 2 });
      expect(fifth.result.ok && fifth.result.revokedSessionIds).toEqual([
        made[1]?.session.id,
        made[2]?.session.id,
      ]);
      const entries = await store.readRevocations('0', clock.now());
      expect(entries.map((e) => e.kind)).toEqual(['session', 'session', 'session']);
      expect(entries[0]).toMatchObject({
        sessionId: made[0]?.session.id,
        userId: 'alice',
        until: made[0]?.session.accessExpiresAt,
      });
    });
  });

  describe('expiry', () => {
    it('idle expiry: expired sessions are tombstones until removed', async () => {
      const { session, secret } = await login();
      clock.advance(IDLE);
      const got = await store.getSession(session.id);
      expect(got?.expiresAt).toBeLessThanOrEqual(clock.now());
      expect(await store.touchSession(session.id, clock.now(), IDLE, 0)).toBeNull();
      expect(await store.setAccessExpiry(session.id, clock.now() + ACCESS, clock.now())).toBe(false);
      expect(await store.rotateRefresh(rotation(session.id, secret.hash).command)).toEqual({
        kind: 'expired',
      });
      expect(await store.listUserSessions('alice', clock.now())).toEqual([]);
    });

    it('absolute expiry: touching never extends past absoluteExpiresAt', async () => {
      const session = newSession('alice', clock, {
        absoluteExpiresAt: clock.now() + 2 * HOUR,
        expiresAt: clock.now() + 2 * HOUR,
      });
      await store.createSession(createCommand(session, clock));
      clock.advance(HOUR);
      const touched = await store.touchSession(session.id, clock.now(), IDLE, 0);
      expect(touched?.expiresAt).toBe(session.absoluteExpiresAt);
      clock.advance(HOUR);
      expect(await store.touchSession(session.id, clock.now(), IDLE, 0)).toBeNull();
      expect(await store.listUserSessions('alice', clock.now())).toEqual([]);
    });

    it('touch slides the idle timeout and is throttled by minIntervalMs', async () => {
      const { session } = await login();
      clock.advance(30_000);
      const early = await store.touchSession(session.id, clock.now(), IDLE, MINUTE);
      expect(early).toEqual(session);
      clock.advance(31_000);
      const later = await store.touchSession(session.id, clock.now(), IDLE, MINUTE);
      expect(later).toEqual({ ...session, lastSeenAt: clock.now(), expiresAt: clock.now() + IDLE });
      expect(await store.getSession(session.id)).toMatchObject({ lastSeenAt: clock.now() });
    });

    it('prunes the index so it does not grow', async () => {
      for (let i = 0; i < 5; i++) {
        await store.createSession(
          createCommand(newSession('alice', clock, { expiresAt: clock.now() + MINUTE }), clock),
        );
      }
      expect(await driver.indexSize(store, 'alice')).toBe(5);
      clock.advance(2 * MINUTE);
      await login();
      expect(await driver.indexSize(store, 'alice')).toBe(1);
      clock.advance(IDLE);
      expect(await store.listUserSessions('alice', clock.now())).toEqual([]);
      expect(await driver.indexSize(store, 'alice')).toBe(0);
    });
  });

  describe('refresh rotation', () => {
    it('rotates, answers the predecessor within grace, and revokes on reuse after grace', async () => {
      const { session, secret } = await login();
      clock.advance(MINUTE);
      const first = rotation(session.id, secret.hash);
      const rotated = await store.rotateRefresh(first.command);
      expect(rotated).toEqual({
        kind: 'rotated',
        session: {
          ...session,
          lastSeenAt: clock.now(),
          expiresAt: clock.now() + IDLE,
          accessExpiresAt: clock.now() + ACCESS,
        },
      });
      expect((await store.getSession(session.id))?.secretHash).toBe(first.next.hash);
      clock.advance(GRACE);
      const again = rotation(session.id, secret.hash);
      const grace = await store.rotateRefresh(again.command);
      expect(grace).toMatchObject({ kind: 'grace', sealedSuccessor: first.command.sealedSuccessor });
      expect(grace.kind === 'grace' && grace.session.accessExpiresAt).toBe(clock.now() + ACCESS);
      expect((await store.getSession(session.id))?.secretHash).toBe(first.next.hash);
      clock.advance(1);
      expect(await store.rotateRefresh(rotation(session.id, secret.hash).command)).toEqual({
        kind: 'reused',
      });
      expect(await store.getSession(session.id)).toBeNull();
      expect(await store.rotateRefresh(rotation(session.id, first.next.hash).command)).toEqual({
        kind: 'invalid',
      });
      const entries = await store.readRevocations('0', clock.now());
      expect(entries).toEqual([
        expect.objectContaining({
          kind: 'session',
          sessionId: session.id,
          userId: 'alice',
          until: clock.now() - 1 + ACCESS,
        }),
      ]);
    });

    it('revokes on a token two generations old, even within grace of the latest', async () => {
      const { session, secret } = await login();
      const one = rotation(session.id, secret.hash);
      expect((await store.rotateRefresh(one.command)).kind).toBe('rotated');
      const two = rotation(session.id, one.next.hash);
      expect((await store.rotateRefresh(two.command)).kind).toBe('rotated');
      expect(await store.rotateRefresh(rotation(session.id, secret.hash).command)).toEqual({
        kind: 'reused',
      });
      expect(await store.getSession(session.id)).toBeNull();
    });

    it('remembers 32 older generations: the 33rd is unknown (invalid), the 32nd is reuse', async () => {
      const { session, secret } = await login();
      const hashes = [secret.hash];
      for (let i = 0; i < 40; i++) {
        clock.advance(GRACE + 1);
        const next = rotation(session.id, hashes[hashes.length - 1] as string);
        expect((await store.rotateRefresh(next.command)).kind).toBe('rotated');
        hashes.push(next.next.hash);
      }
      // hashes[40] is current, [39] the predecessor, [38] … [7] the 32 older generations.
      const tooOld = rotation(session.id, hashes[6] as string);
      expect(await store.rotateRefresh(tooOld.command)).toEqual({ kind: 'invalid' });
      expect((await store.getSession(session.id))?.secretHash).toBe(hashes[40]);
      expect(await store.rotateRefresh(rotation(session.id, hashes[7] as string).command)).toEqual({
        kind: 'reused',
      });
      expect(await store.getSession(session.id)).toBeNull();
    });

    it('an unknown hash for a known session is invalid and changes nothing', async () => {
      const { session, secret } = await login();
      const before = await store.getSession(session.id);
      clock.advance(MINUTE);
      expect(await store.rotateRefresh(rotation(session.id, newSecret().hash).command)).toEqual({
        kind: 'invalid',
      });
      expect(await store.rotateRefresh(rotation(session.id, 'not a hash').command)).toEqual({
        kind: 'invalid',
      });
      expect(await store.getSession(session.id)).toEqual(before);
      expect(await store.readRevocations('0', clock.now())).toEqual([]);
      expect((await store.rotateRefresh(rotation(session.id, secret.hash).command)).kind).toBe('rotated');
    });

    it('strict: refuses while the access token is valid, then rotates', async () => {
      const { session, secret } = await login();
      const early = rotation(session.id, secret.hash, { strict: true });
      expect(await store.rotateRefresh(early.command)).toEqual({ kind: 'access_token_active' });
      expect((await store.getSession(session.id))?.secretHash).toBe(secret.hash);
      clock.advance(ACCESS);
      expect(
        (await store.rotateRefresh(rotation(session.id, secret.hash, { strict: true }).command)).kind,
      ).toBe('rotated');
    });

    it('setAccessExpiry raises accessExpiresAt and never lowers it', async () => {
      const { session } = await login();
      expect(await store.setAccessExpiry(session.id, session.accessExpiresAt + MINUTE, clock.now())).toBe(
        true,
      );
      expect(await store.setAccessExpiry(session.id, clock.now(), clock.now())).toBe(true);
      expect((await store.getSession(session.id))?.accessExpiresAt).toBe(session.accessExpiresAt + MINUTE);
    });
  });

  describe('revocation', () => {
    it('revokes one session, idempotently, with one session entry', async () => {
      const a = await login();
      const b = await login();
      clock.advance(MINUTE);
      expect(await store.revokeSession(a.session.id, clock.now())).toBe(true);
      expect(await store.revokeSession(a.session.id, clock.now())).toBe(false);
      expect(await store.getSession(a.session.id)).toBeNull();
      expect(await store.listUserSessions('alice', clock.now())).toEqual([b.session]);
      expect(await store.readRevocations('0', clock.now())).toEqual([
        {
          kind: 'session',
          id: `${clock.now()}-0`,
          sessionId: a.session.id,
          userId: 'alice',
          until: a.session.accessExpiresAt,
        },
      ]);
      clock.advance(ACCESS);
      await store.revokeSession(b.session.id, clock.now());
      const last = (await store.readRevocations('0', clock.now())).at(-1);
      expect(last).toMatchObject({ sessionId: b.session.id, until: clock.now() });
    });

    it('revokes every session of a user with one user entry', async () => {
      const a = await login();
      clock.advance(1000);
      const b = await login();
      await store.setAccessExpiry(b.session.id, clock.now() + 2 * ACCESS, clock.now());
      const other = await login('bob');
      clock.advance(1000);
      const revoked = await store.revokeUserSessions('alice', clock.now());
      expect(revoked.count).toBe(2);
      expect([...revoked.sessionIds].sort()).toEqual([a.session.id, b.session.id].sort());
      expect(await store.listUserSessions('alice', clock.now())).toEqual([]);
      expect(await store.getSession(a.session.id)).toBeNull();
      expect(await store.getSession(other.session.id)).not.toBeNull();
      const [entry, ...rest] = await store.readRevocations('0', clock.now());
      expect(rest).toEqual([]);
      expect(entry).toMatchObject({
        kind: 'user',
        userId: 'alice',
        before: clock.now(),
        until: clock.now() - 1000 + 2 * ACCESS,
      });
      expect(entry?.kind === 'user' && [...entry.sessionIds].sort()).toEqual(
        [a.session.id, b.session.id].sort(),
      );
      expect(await store.revokeUserSessions('alice', clock.now())).toEqual({ count: 0, sessionIds: [] });
    });

    it('readRevocations: exclusive afterId, increasing ids, retention window', async () => {
      const made = [];
      for (let i = 0; i < 3; i++) made.push(await login());
      for (const m of made) await store.revokeSession(m.session.id, clock.now());
      const all = await store.readRevocations('0', clock.now());
      expect(all.map((e) => e.id)).toEqual([0, 1, 2].map((seq) => `${clock.now()}-${seq}`));
      expect(await store.readRevocations(all[0]?.id as string, clock.now())).toEqual(all.slice(1));
      expect(await store.readRevocations(all[2]?.id as string, clock.now())).toEqual([]);
      clock.advance(1);
      const later = await login();
      await store.revokeSession(later.session.id, clock.now());
      expect((await store.readRevocations(all[2]?.id as string, clock.now())).map((e) => e.id)).toEqual([
        `${clock.now()}-0`,
      ]);
      // Entries stay readable at least until their own `until`; long after it (and past the
      // retention) the next append drops them.
      const until = Math.max(...(await store.readRevocations('0', clock.now())).map((e) => e.until));
      clock.advance(until - clock.now() - 1);
      expect(await store.readRevocations('0', clock.now())).toHaveLength(4);
      clock.advance(RETENTION + 12 * 60_000);
      const last = await login();
      await store.revokeSession(last.session.id, clock.now());
      expect((await store.readRevocations('0', clock.now())).map((e) => e.id)).toEqual([`${clock.now()}-0`]);
      await expect(store.readRevocations('nope', clock.now())).rejects.toThrow(TypeError);
    });

    it('ids never go backwards when the caller clock does', async () => {
      const a = await login();
      const b = await login();
      await store.revokeSession(a.session.id, clock.now());
      clock.advance(-5000);
      await store.revokeSession(b.session.id, clock.now());
      const ids = (await store.readRevocations('0', clock.now())).map((e) => e.id);
      expect(ids).toEqual([`${clock.now() + 5000}-0`, `${clock.now() + 5000}-1`]);
    });
  });

  describe('following revocations', () => {
    type Entry = Awaited<ReturnType<SessionStore['readRevocations']>>[number];
    const followers: RevocationFollower[] = [];
    afterEach(async () => {
      for (const follower of followers.splice(0)) await follower.close();
    });
    async function follow(from?: RevocationPosition) {
      const seen: Entry[] = [];
      let losses = 0;
      const follower = store.followRevocations({
        onEntry: (entry) => seen.push(entry),
        onLoss: () => {
          losses += 1;
        },
        clock,
        blockMs: 100,
        ...(from ? { from } : {}),
      });
      followers.push(follower);
      await follower.start();
      return { follower, seen, losses: () => losses };
    }
    async function revokeOne(userId = 'alice') {
      const { session } = await login(userId);
      await store.revokeSession(session.id, clock.now());
      return session.id;
    }
    const sessionIds = (entries: Entry[]) =>
      entries.map((e) => (e.kind === 'session' ? e.sessionId : e.kind === 'user' ? e.userId : e.kid));

    it('reads every retained entry before start() resolves, then each new one, in order', async () => {
      const first = await revokeOne();
      const { follower, seen } = await follow();
      expect(sessionIds(seen)).toEqual([first]);
      const second = await revokeOne();
      await store.revokeUserSessions('alice', clock.now());
      await waitFor(() => seen.length === 3, 5000);
      expect(sessionIds(seen)).toEqual([first, second, 'alice']);
      expect(seen).toEqual(await store.readRevocations('0', clock.now()));
      expect(follower.lastId).toBe(seen[2]?.id);
      expect(follower.isCurrent(clock.now(), 2000)).toBe(true);
      expect(follower.losses).toBe(0);
    });

    it('resumes from a position: only what came after, no loss', async () => {
      await revokeOne();
      const a = await follow();
      const position = a.follower.position();
      await a.follower.close();
      const later = await revokeOne('bob');
      const b = await follow(position);
      expect(sessionIds(b.seen)).toEqual([later]);
      expect(b.losses()).toBe(0);
      expect(b.follower.suspectBefore).toBe(0);
    });

    it('reports a loss when the log was trimmed past its position, then reloads', async () => {
      await revokeOne();
      const a = await follow();
      const position = a.follower.position();
      await a.follower.close();
      await revokeOne('bob');
      await driver.trimRevocations(store);
      const b = await follow(position);
      expect(b.losses()).toBe(1);
      expect(b.follower.losses).toBe(1);
      expect(b.follower.suspectBefore).toBe(clock.now());
      expect(b.seen).toEqual([]);
      const after = await revokeOne('carl');
      await waitFor(() => b.seen.length === 1, 5000);
      expect(sessionIds(b.seen)).toEqual([after]);
      expect(b.follower.losses).toBe(1);
    });

    it.skipIf(driver.restart === undefined)(
      'reports a loss after Redis restarted empty (restart or failover may lose writes)',
      async () => {
        await revokeOne();
        const a = await follow();
        const position = a.follower.position();
        await a.follower.close();
        await driver.restart?.();
        const b = await follow(position);
        expect(b.losses()).toBe(1);
        expect(b.follower.suspectBefore).toBe(clock.now());
        expect(b.seen).toEqual([]);
      },
    );
  });

  describe('rate limit', () => {
    it('counts hits in a sliding window shared by key', async () => {
      const hit = () => store.hitRateLimit('login:alice', 1000, 3, clock.now());
      const allowed = (count: number) => ({
        allowed: true,
        count,
        retryAfterMs: 0,
        hitId: expect.any(String),
      });
      expect(await hit()).toEqual(allowed(1));
      clock.advance(400);
      expect(await hit()).toEqual(allowed(2));
      expect(await hit()).toEqual(allowed(3));
      expect(await hit()).toEqual({ allowed: false, count: 4, retryAfterMs: 600 });
      expect((await store.hitRateLimit('login:bob', 1000, 3, clock.now())).allowed).toBe(true);
      clock.advance(600);
      expect(await hit()).toEqual(allowed(3));
      expect((await store.hitRateLimit('x'.repeat(1_000_000), 1000, 1, clock.now())).allowed).toBe(true);
      await expect(store.hitRateLimit('k', 0, 1, clock.now())).rejects.toThrow(TypeError);
    });

    it('takes back one hit by its id', async () => {
      const first = await store.hitRateLimit('login:carol', 1000, 2, clock.now());
      const second = await store.hitRateLimit('login:carol', 1000, 2, clock.now());
      expect((await store.hitRateLimit('login:carol', 1000, 2, clock.now())).allowed).toBe(false);
      await store.cancelRateLimitHit('login:carol', second.hitId as string);
      await store.cancelRateLimitHit('login:carol', 'no-such-hit');
      expect(await store.hitRateLimit('login:carol', 1000, 2, clock.now())).toMatchObject({
        allowed: true,
        count: 2,
      });
      expect(first.hitId).not.toBe(second.hitId);
    });

    it('hits several windows at once as one call per window would, and takes them back', async () => {
      const many = store.hitRateLimits?.bind(store);
      const undo = store.cancelRateLimitHits?.bind(store);
      if (!many || !undo) throw new Error('both stores implement the batch calls');
      await store.hitRateLimit('login:dave', 1000, 2, clock.now());
      const windows = [
        { key: 'login:dave', limit: 2 },
        { key: 'login:dave:ip', limit: 1 },
      ];
      const first = await many(windows, 1000, clock.now());
      expect(first).toEqual([
        { allowed: true, count: 2, retryAfterMs: 0, hitId: expect.any(String) },
        { allowed: true, count: 1, retryAfterMs: 0, hitId: expect.any(String) },
      ]);
      clock.advance(300);
      expect(await many(windows, 1000, clock.now())).toEqual([
        { allowed: false, count: 3, retryAfterMs: 700 },
        { allowed: false, count: 2, retryAfterMs: 700 },
      ]);
      await undo(first.map((r, i) => ({ key: windows[i]?.key as string, hitId: r.hitId as string })));
      await undo([{ key: 'login:dave', hitId: 'no-such-hit' }]);
      expect(await many(windows, 1000, clock.now())).toMatchObject([
        { allowed: true, count: 2 },
        { allowed: true, count: 1 },
      ]);
      await expect(many([{ key: 'k', limit: 0 }], 1000, clock.now())).rejects.toThrow(TypeError);
    });
  });
});
