import { randomBytes } from 'node:crypto';
import { type RedisServer, startRedis, waitFor } from '@tessera/testkit';
import {
  type KeyServer,
  openSessionFixture,
  type SessionFixture,
  startKeyServer,
} from '@tessera/testkit/fixtures';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createGuard, type Guard } from './index.ts';

let redis: RedisServer;
let keys: KeyServer;
let sessions: SessionFixture;
let guard: Guard;

beforeAll(async () => {
  redis = await startRedis();
  keys = await startKeyServer();
  sessions = await openSessionFixture(redis.url);
  guard = createGuard({ authUrl: keys.url, redis: { kind: 'single', url: redis.url }, env: {} });
  await guard.ready();
});

afterAll(async () => {
  await guard?.close();
  await sessions?.close();
  await keys?.close();
  await redis?.stop();
});

async function login(userId: string, roles = ['user']) {
  const { sessionId } = await sessions.createSession(userId, roles);
  return { sessionId, token: await keys.sign({ sub: userId, sid: sessionId, roles }) };
}

describe('guard (jwt mode, feed)', () => {
  it('accepts a valid token and serves repeats from the cache', async () => {
    const { sessionId, token } = await login('alice', ['user', 'admin']);
    const first = await guard.authenticate(token);
    expect(first).toMatchObject({
      ok: true,
      principal: { userId: 'alice', sessionId, roles: ['user', 'admin'] },
    });
    const hits = guard.stats.cacheHits;
    const second = await guard.authenticate(token);
    expect(second.ok).toBe(true);
    expect(guard.stats.cacheHits).toBe(hits + 1);
    expect(guard.feedStatus()?.current).toBe(true);
  });

  it('authenticateCached: a cached token decided without a promise, counted once; undefined on first sight', async () => {
    const { sessionId, token } = await login('ada', ['user']);
    const decisions = guard.stats.decisions.allowed;
    expect(guard.authenticateCached(token)).toBeUndefined();
    expect(guard.stats.decisions.allowed).toBe(decisions);
    expect((await guard.authenticate(token)).ok).toBe(true);
    const hits = guard.stats.cacheHits;
    const cached = guard.authenticateCached(token);
    expect(cached).toMatchObject({ ok: true, principal: { userId: 'ada', sessionId, roles: ['user'] } });
    expect(guard.stats.cacheHits).toBe(hits + 1);
    expect(guard.stats.decisions.allowed).toBe(decisions + 2);
    expect(guard.authenticateCached(undefined)).toMatchObject({
      ok: false,
      error: { code: 'invalid_token' },
    });
    expect(guard.authenticateCached('x'.repeat(5000))).toMatchObject({
      ok: false,
      error: { code: 'invalid_token' },
    });
    // The revocation set is consulted on the synchronous path too.
    await sessions.store.revokeSession(sessionId, Date.now());
    await waitFor(() => guard.authenticateCached(token)?.ok === false, 1000);
    expect(guard.authenticateCached(token)).toMatchObject({ ok: false, error: { code: 'session_revoked' } });
  });

  it('refuses a session within milliseconds of its revocation, cached or not', async () => {
    const { sessionId, token } = await login('bob');
    expect((await guard.authenticate(token)).ok).toBe(true);
    await sessions.store.revokeSession(sessionId, Date.now());
    await waitFor(async () => !(await guard.authenticate(token)).ok, 1000);
    const result = await guard.authenticate(token);
    expect(result).toMatchObject({ ok: false, error: { code: 'session_revoked', status: 401 } });
  });

  it('refuses every older token of a user after revoke-all, and accepts a later login', async () => {
    const a = await login('carol');
    const b = await login('carol');
    const revokedAt = Date.now();
    await sessions.store.revokeUserSessions('carol', revokedAt);
    await waitFor(async () => !(await guard.authenticate(b.token)).ok, 1000);
    expect((await guard.authenticate(a.token)).ok).toBe(false);
    // A token of the same session id minted before the cutoff (e.g. a leaked one) is refused by iat.
    const old = await keys.sign({
      sub: 'carol',
      sid: 'carol.AAAAAAAAAAAAAAAAAAAAAA',
      iat: Math.floor(Date.now() / 1000) - 5,
    });
    expect(await guard.authenticate(old)).toMatchObject({ ok: false, error: { code: 'session_revoked' } });
    // A later login: its token's iat second must be past the cutoff's second.
    await waitFor(() => Math.floor(Date.now() / 1000) > Math.floor(revokedAt / 1000), 2000);
    const later = await login('carol');
    expect((await guard.authenticate(later.token)).ok).toBe(true);
  });

  it('applies a raw XADD entry written by any producer of the stream format', async () => {
    const { sessionId, token } = await login('dave');
    expect((await guard.authenticate(token)).ok).toBe(true);
    await redis.command(
      'XADD',
      'tessera:revocations',
      '*',
      'k',
      's',
      'uid',
      'dave',
      'sid',
      sessionId,
      'until',
      String(Date.now() + 600_000),
    );
    await waitFor(async () => !(await guard.authenticate(token)).ok, 1000);
  });

  it('a restarted guard loads outstanding revocations before it is ready', async () => {
    const { sessionId, token } = await login('erin');
    await redis.command(
      'XADD',
      'tessera:revocations',
      '*',
      'k',
      's',
      'uid',
      'erin',
      'sid',
      sessionId,
      'until',
      String(Date.now() + 600_000),
    );
    const fresh = createGuard({ authUrl: keys.url, redis: { kind: 'single', url: redis.url }, env: {} });
    await fresh.ready();
    try {
      expect(await fresh.authenticate(token)).toMatchObject({
        ok: false,
        error: { code: 'session_revoked' },
      });
    } finally {
      await fresh.close();
    }
  });

  it('answers token_expired for an expired token and invalid_token for a foreign issuer or audience', async () => {
    const { sessionId } = await sessions.createSession('frank');
    const now = Math.floor(Date.now() / 1000);
    const expired = await keys.sign({ sub: 'frank', sid: sessionId, iat: now - 120, exp: now - 60 });
    expect(await guard.authenticate(expired)).toMatchObject({ ok: false, error: { code: 'token_expired' } });
    const foreignIss = await keys.sign({ sub: 'frank', sid: sessionId, iss: 'https://evil.example' });
    expect(await guard.authenticate(foreignIss)).toMatchObject({
      ok: false,
      error: { code: 'invalid_token' },
    });
    const foreignAud = await keys.sign({ sub: 'frank', sid: sessionId, aud: 'other' });
    expect(await guard.authenticate(foreignAud)).toMatchObject({
      ok: false,
      error: { code: 'invalid_token' },
    });
  });

  it('refuses malformed credentials with invalid_token, never a throw or a hang', async () => {
    const { token } = await login('gina');
    const [header, payload] = token.split('.');
    const samples: Array<string | undefined> = [
      undefined,
      '',
      'x'.repeat(1024 * 1024),
      '!!!.@@@.###',
      'tss_not-a-session',
      'tsr_gina.AAAAAAAAAAAAAAAAAAAAAA.secret',
      `${header}.${payload}.`,
      `${header}.${payload}.${randomBytes(64).toString('base64url')}`,
      'eyJhbGciOiJub25lIn0.eyJzdWIiOiJnaW5hIn0.',
      '\u0000\u0001',
    ];
    for (const sample of samples) {
      const result = await guard.authenticate(sample);
      expect(result).toMatchObject({ ok: false, error: { code: 'invalid_token', status: 401 } });
    }
  });

  it('accepts tokens of a new key at once (unknown kid → JWKS refetch) and of the old key until they expire', async () => {
    const fresh = createGuard({ authUrl: keys.url, redis: { kind: 'single', url: redis.url }, env: {} });
    await fresh.ready();
    try {
      const { sessionId } = await sessions.createSession('hank');
      const oldKid = keys.kids.at(-1);
      const oldToken = await keys.sign({ sub: 'hank', sid: sessionId });
      expect((await fresh.authenticate(oldToken)).ok).toBe(true);
      const fetches = keys.jwksFetches;
      await keys.rotate(); // within jose's refetch cooldown of that fetch: the guard waits it out once
      const newToken = await keys.sign({ sub: 'hank', sid: sessionId });
      expect((await fresh.authenticate(newToken)).ok).toBe(true);
      expect(keys.jwksFetches).toBe(fetches + 1);
      const oldUncached = await keys.sign({ sub: 'hank', sid: sessionId, jti: 'another' }, oldKid);
      expect((await fresh.authenticate(oldUncached)).ok).toBe(true);
      const unknownKid = await keys.sign({ sub: 'hank', sid: sessionId }, undefined);
      expect(
        (await fresh.authenticate(`${unknownKid.split('.')[0]}x.${unknownKid.split('.').slice(1).join('.')}`))
          .ok,
      ).toBe(false);
    } finally {
      await fresh.close();
    }
  });
});

describe('guard set-up', () => {
  it('uses a caller-provided ioredis client (already connecting) and leaves it open on close', async () => {
    const client = new Redis(redis.url, { maxRetriesPerRequest: 1 });
    const own = createGuard({ authUrl: keys.url, redis: client, env: {} });
    await own.ready();
    const { token } = await login('ivan');
    expect((await own.authenticate(token)).ok).toBe(true);
    await own.close();
    expect(await client.ping()).toBe('PONG');
    client.disconnect();
  });

  it('ready() rejects with a clean message when Redis is unreachable; authenticate answers 503, never hangs', async () => {
    const down = createGuard({
      authUrl: keys.url,
      redis: { kind: 'single', url: 'redis://127.0.0.1:1' },
      connectTimeoutMs: 300,
      env: {},
    });
    await expect(down.ready()).rejects.toThrow(/^Redis is not reachable/);
    const started = Date.now();
    const result = await down.authenticate(await keys.sign({ sub: 'x', sid: 'x.AAAAAAAAAAAAAAAAAAAAAA' }));
    expect(result).toMatchObject({ ok: false, error: { code: 'store_unavailable' } });
    expect(Date.now() - started).toBeLessThan(2500);
    await down.close();
  });
});

describe('createGuard validation', () => {
  it('throws TypeError at setup for a misconfiguration', () => {
    expect(() => createGuard({ env: {} })).toThrow(TypeError);
    expect(() =>
      createGuard({ env: { TESSERA_REDIS_URL: 'redis://x:1', TESSERA_TOKEN_MODE: 'bogus' } }),
    ).toThrow(/TESSERA_TOKEN_MODE/);
    expect(() =>
      createGuard({
        env: { TESSERA_REDIS_URL: 'redis://x:1', TESSERA_AUTH_URL: 'http://a', TESSERA_FEED_MAX_LAG: 'soon' },
      }),
    ).toThrow(/TESSERA_FEED_MAX_LAG/);
    expect(() => createGuard({ env: { TESSERA_REDIS_URL: 'redis://x:1' } })).toThrow(/TESSERA_AUTH_URL/);
    expect(() =>
      createGuard({
        env: { TESSERA_REDIS_URL: 'redis://x:1', TESSERA_AUTH_URL: 'http://a', TESSERA_FAIL_OPEN: 'yes' },
      }),
    ).toThrow(/TESSERA_FAIL_OPEN/);
  });
});
