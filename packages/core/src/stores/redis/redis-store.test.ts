import { startRedis, startRedisSentinel } from '@tessera/testkit';
import type { Redis } from 'ioredis';
import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { StoreUnavailableError } from '../../errors/errors.ts';
import { formatOpaqueToken, generateSecret, hashSecret } from '../../tokens/opaque-token.ts';
import { sealSuccessor } from '../../tokens/successor-box.ts';
import {
  ACCESS,
  createCommand,
  GRACE,
  IDLE,
  ManualClock,
  newSession,
  RETENTION,
} from '../conformance-fixtures.ts';
import { revocationFields } from '../revocations/entry-format.ts';
import type { SessionStore } from '../session-store.ts';
import { connectRedis, createRedisClient } from './connection.ts';
import { dumpKey, scanAllKeys } from './redis-inspect.ts';
import { createRedisStore } from './redis-store.ts';
import { usePrivateRedis } from './redis-test-fixtures.ts';

describe('RedisStore (single Redis)', () => {
  const redis = usePrivateRedis();
  let client: Redis;
  let store: SessionStore;
  let clock: ManualClock;
  beforeAll(() => {
    client = redis.client;
  });
  beforeEach(async () => {
    await client.flushall();
    clock = new ManualClock(Date.now());
    store = createRedisStore({ client, revocationRetentionMs: RETENTION, ownsClient: false });
  });

  /** A session whose current secret, predecessors and successors are real tokens. */
  async function loginWithTokens(userId = 'alice') {
    const session = newSession(userId, clock);
    const secrets = [generateSecret()];
    await store.createSession(
      createCommand(session, clock, { secretHash: hashSecret(secrets[0] as string) }),
    );
    for (let i = 0; i < 3; i++) {
      const previous = secrets.at(-1) as string;
      const next = generateSecret();
      secrets.push(next);
      const sealed = sealSuccessor(formatOpaqueToken('refresh', session.id, next), previous, session.id);
      const result = await store.rotateRefresh({
        sessionId: session.id,
        presentedHash: hashSecret(previous),
        nextHash: hashSecret(next),
        sealedSuccessor: sealed,
        now: clock.now(),
        graceMs: GRACE,
        idleMs: IDLE,
        strict: false,
        accessExpiresAt: clock.now() + ACCESS,
      });
      expect(result.kind).toBe('rotated');
    }
    return { session, secrets };
  }

  async function exerciseEverything() {
    const a = await loginWithTokens('alice');
    const b = await loginWithTokens('alice');
    await loginWithTokens('bob');
    await store.touchSession(a.session.id, clock.now() + 120_000, IDLE, 60_000);
    await store.hitRateLimit('login:alice', 60_000, 5, clock.now());
    await store.revokeSession(b.session.id, clock.now());
    await store.revokeUserSessions('bob', clock.now());
    await store.listUserSessions('alice', clock.now());
    return a;
  }

  it('gives every key a TTL', async () => {
    await exerciseEverything();
    const keys = await scanAllKeys(client);
    expect(keys.map((k) => k.key).sort()).toEqual(
      expect.arrayContaining([
        'tessera:revocations',
        'tessera:{u:alice}:idx',
        expect.stringMatching(/^tessera:\{rl:/),
      ]),
    );
    for (const { key } of keys) expect(await client.pttl(key), key).toBeGreaterThan(0);
  });

  it('never stores a raw secret or token', async () => {
    const a = await loginWithTokens('alice');
    const b = await loginWithTokens('carol');
    await store.revokeSession(b.session.id, clock.now());
    const values = (
      await Promise.all((await scanAllKeys(client)).map(({ node, key }) => dumpKey(node, key)))
    ).flat();
    const text = values.join('\n');
    expect(values.length).toBeGreaterThan(20);
    for (const secret of [...a.secrets, ...b.secrets]) {
      expect(text).not.toContain(secret);
      expect(text).not.toContain(secret.slice(0, 16));
    }
    expect(text).toContain(hashSecret(a.secrets.at(-1) as string));
  });

  it('50 concurrent refreshes with one token: one rotation, 49 identical grace answers', async () => {
    const { session, secrets } = await loginWithTokens('alice');
    const presented = secrets.at(-1) as string;
    const results = await Promise.all(
      Array.from({ length: 50 }, () => {
        const next = generateSecret();
        return store.rotateRefresh({
          sessionId: session.id,
          presentedHash: hashSecret(presented),
          nextHash: hashSecret(next),
          sealedSuccessor: sealSuccessor(
            formatOpaqueToken('refresh', session.id, next),
            presented,
            session.id,
          ),
          now: clock.now(),
          graceMs: GRACE,
          idleMs: IDLE,
          strict: false,
          accessExpiresAt: clock.now() + ACCESS,
        });
      }),
    );
    expect(results.filter((r) => r.kind === 'rotated')).toHaveLength(1);
    const grace = results.filter((r) => r.kind === 'grace');
    expect(grace).toHaveLength(49);
    expect(new Set(grace.map((r) => r.sealedSuccessor)).size).toBe(1);
    expect(await store.getSession(session.id)).not.toBeNull();
  });

  it('costs one command on the wire per method', async () => {
    const a = await loginWithTokens('alice');
    const monitor = await client.duplicate().monitor();
    const seen: string[][] = [];
    monitor.on('monitor', (_time: string, args: string[], source: string) => {
      if (source !== 'lua') seen.push(args);
    });
    /** Client commands (not those run inside scripts) sent while `run` ran, via MONITOR. */
    const commandsOf = async (run: () => Promise<unknown>) => {
      seen.length = 0;
      await run();
      const marker = `marker-${Math.random()}`;
      await redis.server.command('ECHO', marker);
      while (!seen.some((args) => args[1] === marker)) await new Promise((r) => setTimeout(r, 5));
      return seen.filter((args) => args[1] !== marker).map((args) => String(args[0]).toLowerCase());
    };
    const now = clock.now();
    const methods: Array<[string, () => Promise<unknown>]> = [
      [
        'createSession',
        () => store.createSession(createCommand(newSession('alice', clock), clock, { maxSessions: 1 })),
      ],
      ['getSession', () => store.getSession(a.session.id)],
      ['touchSession', () => store.touchSession(a.session.id, now + 120_000, IDLE, 0)],
      ['setAccessExpiry', () => store.setAccessExpiry(a.session.id, now + ACCESS, now)],
      ['listUserSessions', () => store.listUserSessions('alice', now)],
      [
        'rotateRefresh',
        () =>
          store.rotateRefresh({
            sessionId: a.session.id,
            presentedHash: hashSecret(a.secrets[0] as string),
            nextHash: 'n',
            sealedSuccessor: 's',
            now,
            graceMs: GRACE,
            idleMs: IDLE,
            strict: false,
            accessExpiresAt: now,
          }),
      ],
      ['revokeSession', () => store.revokeSession(a.session.id, now)],
      ['revokeUserSessions', () => store.revokeUserSessions('alice', now)],
      ['hitRateLimit', () => store.hitRateLimit('k', 1000, 5, now)],
      ['readRevocations', () => store.readRevocations('0', now)],
      ['ping', () => store.ping()],
    ];
    for (const [name, run] of methods) {
      await commandsOf(() => run().catch(() => undefined)); // first use per connection may send EVAL instead of EVALSHA
      const sent = await commandsOf(run);
      expect(sent, name).toHaveLength(1);
      expect(sent[0], name).toMatch(/^(evalsha|hgetall|xrange|ping)$/);
    }
    monitor.disconnect();
  });

  it('writes stream entries field for field as revocationFields', async () => {
    const { session } = await loginWithTokens('alice');
    await store.revokeSession(session.id, clock.now());
    await store.revokeUserSessions('alice', clock.now());
    const raw = await client.xrange('tessera:revocations', '-', '+');
    expect(raw.map(([, fields]) => fields)).toEqual([
      revocationFields({
        kind: 'session',
        sessionId: session.id,
        userId: 'alice',
        until: clock.now() + ACCESS,
      }),
      revocationFields({
        kind: 'user',
        userId: 'alice',
        sessionIds: [],
        before: clock.now(),
        until: clock.now(),
      }),
    ]);
  });

  it('trims only entries whose own until has passed (at most 100 per append), and never shortens the TTL', async () => {
    for (let i = 0; i < 250; i++) {
      await store.revokeUserSessions('alice', clock.now());
    }
    expect(await client.xlen('tessera:revocations')).toBe(250);
    clock.advance(RETENTION + 11 * 60_000);
    await store.revokeUserSessions('alice', clock.now());
    expect(await client.xlen('tessera:revocations')).toBe(151);
    await store.revokeUserSessions('alice', clock.now());
    await store.revokeUserSessions('alice', clock.now());
    expect(await client.xlen('tessera:revocations')).toBe(3);
    expect(await client.pttl('tessera:revocations')).toBeGreaterThan(RETENTION - 5000);
  });

  it('a writer with a short retention neither trims nor expires what a long-TTL service wrote (issue 9 §6)', async () => {
    const { session } = await loginWithTokens('alice');
    const accessUntil = clock.now() + 60 * 60_000; // the service's TTL: 1 h
    await store.setAccessExpiry(session.id, accessUntil, clock.now());
    // `tessera sessions revoke` run with TESSERA_ACCESS_TTL=1s: its store's retention is 2 s.
    const cli = createRedisStore({ client, revocationRetentionMs: 2000, ownsClient: false });
    await cli.revokeSession(session.id, clock.now());
    expect(await client.pttl('tessera:revocations')).toBeGreaterThan(60 * 60_000);
    clock.advance(30 * 60_000);
    const other = await loginWithTokens('bob');
    await cli.revokeSession(other.session.id, clock.now());
    const seen = await cli.readRevocations('0', clock.now());
    expect(seen.find((e) => e.kind === 'session' && e.sessionId === session.id)?.until).toBe(accessUntil);
    expect(await client.pttl('tessera:revocations')).toBeGreaterThan(30 * 60_000);
  });

  it('reloads its scripts after SCRIPT FLUSH (NOSCRIPT fallback)', async () => {
    const { session } = await loginWithTokens('alice');
    await client.script('FLUSH');
    expect(await store.touchSession(session.id, clock.now(), IDLE, 0)).not.toBeNull();
  });

  it('stores long strings and answers malformed input without hanging', async () => {
    const big = 'x'.repeat(1_000_000);
    const session = newSession('alice', clock, { userAgent: big, ip: '' });
    expect((await store.createSession(createCommand(session, clock))).ok).toBe(true);
    expect((await store.getSession(session.id))?.userAgent).toBe(big);
    expect(await store.getSession(`${session.id}x`)).toBeNull();
    expect(await store.touchSession(big, clock.now(), IDLE, 0)).toBeNull();
    await expect(store.readRevocations(big, clock.now())).rejects.toThrow(TypeError);
    await expect(store.touchSession(session.id, Number.NaN, IDLE, 0)).rejects.toThrow(TypeError);
  });

  it('throws StoreUnavailableError, without Redis text, when the server is down', async () => {
    const own = await startRedis();
    const ownClient = createRedisClient({ kind: 'single', url: own.url });
    await connectRedis(ownClient);
    const down = createRedisStore({ client: ownClient, revocationRetentionMs: RETENTION });
    await down.ping();
    await own.stop();
    const session = newSession('alice', clock);
    const attempts = [
      () => down.ping(),
      () => down.getSession(session.id),
      () => down.createSession(createCommand(session, clock)),
      () => down.revokeUserSessions('alice', clock.now()),
      () => down.readRevocations('0', clock.now()),
    ];
    for (const attempt of attempts) {
      const error = await attempt().catch((e: unknown) => e);
      expect(error).toBeInstanceOf(StoreUnavailableError);
      expect((error as StoreUnavailableError).message).toBe('session store unavailable');
      expect((error as StoreUnavailableError).cause).toBeDefined();
    }
    await down.close();
  });
});

describe('RedisStore (sentinel)', () => {
  it('works through a sentinel-discovered master', async () => {
    const setup = await startRedisSentinel();
    try {
      const client = createRedisClient({ kind: 'sentinel', sentinels: setup.sentinels, name: setup.name });
      await connectRedis(client);
      const store = createRedisStore({ client, revocationRetentionMs: RETENTION });
      const clock = new ManualClock(Date.now());
      const session = newSession('alice', clock);
      expect((await store.createSession(createCommand(session, clock))).ok).toBe(true);
      expect((await store.getSession(session.id))?.id).toBe(session.id);
      expect(await store.revokeSession(session.id, clock.now())).toBe(true);
      expect(await store.readRevocations('0', clock.now())).toHaveLength(1);
      expect(await setup.master.command('EXISTS', 'tessera:revocations')).toContain(':1');
      await store.close();
    } finally {
      await setup.stop();
    }
  });
});
