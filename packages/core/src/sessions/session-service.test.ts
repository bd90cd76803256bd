import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type RedisServer, startRedis } from '@tessera/testkit';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createMemoryStore, createRedisStore } from '../index.ts';
import { type KeyRing, loadKeyRing } from '../keys/key-ring.ts';
import { ManualClock } from '../lib/clock.ts';
import { connectRedis, createRedisClient, type RedisClient } from '../stores/redis/connection.ts';
import type { SessionStore } from '../stores/session-store.ts';
import type { SessionServiceOptions } from './service-types.ts';
import { createSessionService } from './session-service.ts';

const MIN = 60_000;

let redis: RedisServer;
let client: RedisClient;
let keys: KeyRing;

beforeAll(async () => {
  redis = await startRedis();
  client = createRedisClient({ kind: 'single', url: redis.url });
  await connectRedis(client);
  keys = await loadKeyRing({
    alg: 'EdDSA',
    dataDir: mkdtempSync(join(tmpdir(), 'tessera-keys-')),
    maxTokenLifetimeMs: 10 * MIN,
  });
});

afterAll(async () => {
  keys.close();
  client.disconnect();
  await redis.stop();
});

const drivers: Array<[string, () => SessionStore]> = [
  ['memory', () => createMemoryStore()],
  ['redis', () => createRedisStore({ client, revocationRetentionMs: 11 * MIN })],
];

describe.each(drivers)('session service on %s store', (driverName, makeStore) => {
  let clock: ManualClock;
  let store: SessionStore;

  beforeEach(async () => {
    if (driverName === 'redis') await client.flushall();
    clock = new ManualClock(Date.now());
    store = makeStore();
  });

  function service(overrides: Partial<SessionServiceOptions> = {}) {
    return createSessionService({
      store,
      keys,
      issuer: 'http://127.0.0.1:4000',
      audience: 'tessera',
      clock,
      ...overrides,
    });
  }
  const alice = { userId: 'ualice', roles: ['admin'], ip: '127.0.0.1', userAgent: 'vitest' };

  it('logs in and authenticates with the access token', async () => {
    const svc = service();
    const issued = await svc.login(alice);
    expect(issued.refreshToken).toMatch(/^tsr_ualice\./);
    expect(issued.expiresIn).toBe(600);
    const auth = await svc.authenticate(issued.accessToken);
    expect(auth.session.id).toBe(issued.session.id);
    expect(auth.claims?.roles).toEqual(['admin']);
  });

  it('rotates refresh tokens; a used token after the grace window revokes the whole session', async () => {
    const svc = service({ refreshGraceMs: 10_000 });
    const first = await svc.login(alice);
    const second = await svc.refresh(first.refreshToken as string);
    expect(second.refreshToken).not.toBe(first.refreshToken);
    clock.advance(11_000);
    await expect(svc.refresh(first.refreshToken as string)).rejects.toMatchObject({
      code: 'refresh_token_reused',
    });
    await expect(svc.refresh(second.refreshToken as string)).rejects.toMatchObject({ code: 'invalid_token' });
    await expect(svc.authenticate(second.accessToken)).rejects.toMatchObject({ code: 'session_revoked' });
  });

  it('within the grace window a used token gets the same successor', async () => {
    const svc = service();
    const first = await svc.login(alice);
    const a = await svc.refresh(first.refreshToken as string);
    clock.advance(2_000);
    const b = await svc.refresh(first.refreshToken as string);
    expect(b.refreshToken).toBe(a.refreshToken);
    await expect(svc.authenticate(b.accessToken)).resolves.toBeTruthy();
  });

  it('a token two generations old is reuse at any time', async () => {
    const svc = service();
    const t0 = await svc.login(alice);
    const t1 = await svc.refresh(t0.refreshToken as string);
    await svc.refresh(t1.refreshToken as string);
    await expect(svc.refresh(t0.refreshToken as string)).rejects.toMatchObject({
      code: 'refresh_token_reused',
    });
    expect(await svc.getSession(t0.session.id)).toBeNull();
  });

  it('a forged secret for a known session is invalid_token and does not revoke', async () => {
    const svc = service();
    const issued = await svc.login(alice);
    const forged = `tsr_${issued.session.id}.${'A'.repeat(43)}`;
    await expect(svc.refresh(forged)).rejects.toMatchObject({ code: 'invalid_token' });
    expect(await svc.getSession(issued.session.id)).not.toBeNull();
  });

  it('reject policy refuses a second login unless forced; force ends the old session', async () => {
    const svc = service({ concurrency: 'reject' });
    const first = await svc.login(alice);
    await expect(svc.login(alice)).rejects.toMatchObject({ code: 'session_exists' });
    const second = await svc.login({ ...alice, force: true });
    expect(await svc.getSession(first.session.id)).toBeNull();
    expect(await svc.getSession(second.session.id)).not.toBeNull();
  });

  it('replace policy ends the other sessions', async () => {
    const svc = service({ concurrency: 'replace' });
    const first = await svc.login(alice);
    const second = await svc.login(alice);
    expect((await svc.listSessions('ualice')).map((s) => s.id)).toEqual([second.session.id]);
    await expect(svc.authenticate(first.accessToken)).rejects.toMatchObject({ code: 'session_revoked' });
  });

  it('max sessions evicts the oldest', async () => {
    const svc = service({ maxSessions: 2 });
    const s1 = await svc.login(alice);
    clock.advance(10);
    const s2 = await svc.login(alice);
    clock.advance(10);
    const s3 = await svc.login(alice);
    const ids = (await svc.listSessions('ualice')).map((s) => s.id).sort();
    expect(ids).toEqual([s2.session.id, s3.session.id].sort());
    expect(await svc.getSession(s1.session.id)).toBeNull();
  });

  it('strict policy refuses refresh while the access token is valid', async () => {
    const svc = service({ refreshPolicy: 'strict', accessTtlMs: MIN });
    const issued = await svc.login(alice);
    await expect(svc.refresh(issued.refreshToken as string)).rejects.toMatchObject({
      code: 'access_token_active',
    });
    clock.advance(MIN + 1000);
    await expect(svc.refresh(issued.refreshToken as string)).resolves.toBeTruthy();
  });

  it('idle and absolute timeouts end sessions', async () => {
    const svc = service({ idleTimeoutMs: 30 * MIN, absoluteTimeoutMs: 60 * MIN, accessTtlMs: MIN });
    const issued = await svc.login(alice);
    clock.advance(20 * MIN);
    const r1 = await svc.refresh(issued.refreshToken as string);
    clock.advance(20 * MIN);
    const r2 = await svc.refresh(r1.refreshToken as string);
    clock.advance(25 * MIN); // 65 min after login: past the absolute timeout
    await expect(svc.refresh(r2.refreshToken as string)).rejects.toMatchObject({ code: 'session_expired' });
    const other = await svc.login(alice);
    clock.advance(31 * MIN);
    await expect(svc.refresh(other.refreshToken as string)).rejects.toMatchObject({
      code: 'session_expired',
    });
  });

  it('revoke-all ends every session of the user', async () => {
    const svc = service();
    const a = await svc.login(alice);
    const b = await svc.login(alice);
    expect((await svc.revokeUserSessions('ualice')).count).toBe(2);
    for (const issued of [a, b]) {
      await expect(svc.authenticate(issued.accessToken)).rejects.toMatchObject({ code: 'session_revoked' });
    }
    const entries = await store.readRevocations('0', clock.now());
    expect(entries.at(-1)).toMatchObject({ kind: 'user', userId: 'ualice' });
  });

  it('opaque mode: one session token, looked up in the store', async () => {
    const svc = service({ tokenMode: 'opaque' });
    const issued = await svc.login(alice);
    expect(issued.refreshToken).toBeUndefined();
    expect(issued.accessToken).toMatch(/^tss_/);
    expect((await svc.authenticate(issued.accessToken)).session.roles).toEqual(['admin']);
    await svc.revokeSession(issued.session.id);
    await expect(svc.authenticate(issued.accessToken)).rejects.toMatchObject({ code: 'session_revoked' });
  });

  it('introspects and revokes tokens (RFC 7662 / 7009)', async () => {
    const svc = service();
    const issued = await svc.login(alice);
    expect(await svc.introspect(issued.accessToken)).toMatchObject({
      active: true,
      sub: 'ualice',
      token_type: 'access_token',
    });
    expect(await svc.introspect(issued.refreshToken as string)).toMatchObject({
      active: true,
      token_type: 'refresh_token',
    });
    expect(await svc.introspect('nonsense')).toEqual({ active: false });
    expect(await svc.revokeToken('tsr_nonsense')).toBeNull();
    expect(await svc.revokeToken(`tsr_${issued.session.id}.${'A'.repeat(43)}`)).toBeNull();
    expect(await svc.getSession(issued.session.id)).not.toBeNull();
    expect(await svc.revokeToken(issued.refreshToken as string)).toBe(issued.session.id);
    expect(await svc.introspect(issued.accessToken)).toEqual({ active: false });
  });

  it('malformed input gives typed errors, never a throw of anything else', async () => {
    const svc = service();
    const bad = [
      '',
      'tsr_',
      'tsr_x.y.z',
      `tsr_${'a'.repeat(1_000_000)}`,
      '!!!.@@@.###',
      'a.b.c',
      'eyJ.eyJ.sig',
    ];
    for (const value of bad) {
      await expect(svc.refresh(value)).rejects.toMatchObject({ code: 'invalid_token' });
      await expect(svc.authenticate(value)).rejects.toMatchObject({ code: 'invalid_token' });
      expect(await svc.introspect(value)).toEqual({ active: false });
      await svc.revokeToken(value);
    }
    expect(await svc.getSession('')).toBeNull();
    expect(await svc.getSession('x'.repeat(1_000_000))).toBeNull();
  });
});

describe('session service on Redis: concurrency and hygiene', () => {
  let store: SessionStore;
  beforeEach(async () => {
    await client.flushall();
    store = createRedisStore({ client, revocationRetentionMs: 11 * MIN });
  });
  const alice = { userId: 'ualice', roles: [], ip: '127.0.0.1', userAgent: 'vitest' };

  it('50 parallel refreshes with the same token all get the same successor; the session stays alive', async () => {
    const svc = createSessionService({ store, keys, issuer: 'http://x', audience: 'tessera' });
    const issued = await svc.login(alice);
    const results = await Promise.all(
      Array.from({ length: 50 }, () => svc.refresh(issued.refreshToken as string)),
    );
    const successors = new Set(results.map((r) => r.refreshToken));
    expect(successors.size).toBe(1);
    const next = await svc.refresh([...successors][0] as string);
    await expect(svc.authenticate(next.accessToken)).resolves.toBeTruthy();
  });

  it('no raw token or secret anywhere in Redis, and every key has a TTL', async () => {
    const svc = createSessionService({ store, keys, issuer: 'http://x', audience: 'tessera' });
    const issued = await svc.login(alice);
    const r1 = await svc.refresh(issued.refreshToken as string);
    await svc.refresh(issued.refreshToken as string);
    const opaque = await createSessionService({
      store,
      keys,
      issuer: 'http://x',
      audience: 'tessera',
      tokenMode: 'opaque',
    }).login({ ...alice, userId: 'ubob' });
    await svc.revokeSession(r1.session.id);
    await svc.login(alice);
    const secrets = [
      issued.refreshToken,
      r1.refreshToken,
      opaque.accessToken,
      issued.accessToken,
      r1.accessToken,
    ].map((t) => (t as string).split('.').at(-1) as string);
    const keysInRedis: string[] = [];
    let cursor = '0';
    do {
      const [next, batch] = await (client as import('ioredis').Redis).scan(cursor, 'COUNT', 100);
      cursor = next;
      keysInRedis.push(...batch);
    } while (cursor !== '0');
    expect(keysInRedis.length).toBeGreaterThan(0);
    for (const key of keysInRedis) {
      expect(await client.pttl(key)).toBeGreaterThan(0);
      const type = await client.type(key);
      const dump = JSON.stringify(
        type === 'hash'
          ? await client.hgetall(key)
          : type === 'zset'
            ? await client.zrange(key, 0, -1, 'WITHSCORES')
            : type === 'stream'
              ? await client.xrange(key, '-', '+')
              : type === 'string'
                ? await client.get(key)
                : type,
      );
      for (const secret of secrets) expect(dump).not.toContain(secret);
    }
  });
});
