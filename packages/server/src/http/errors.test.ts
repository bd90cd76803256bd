import { connectRedis, createRedisClient, createRedisStore, ManualClock } from '@tessera/core';
import { startRedis } from '@tessera/testkit';
import { createTestApp } from '@tessera/testkit/auth-service';
import { describe, expect, it } from 'vitest';

const PASSWORD = 'correct horse battery';
const problemOf = (res: { headers: Record<string, unknown>; json(): unknown }) => {
  expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
  const body = res.json() as Record<string, unknown>;
  expect(Object.keys(body).sort()).toEqual(['code', 'detail', 'status', 'title', 'type']);
  return body;
};

describe('HTTP errors', () => {
  it('404, 405, 413, 415 and invalid JSON as problem+json', async () => {
    const t = await createTestApp();
    try {
      expect(problemOf(await t.app.inject({ url: '/nope' }))).toMatchObject({
        status: 404,
        code: 'not_found',
      });
      const wrong = await t.app.inject({ method: 'PUT', url: '/v1/login' });
      expect(problemOf(wrong)).toMatchObject({ status: 405, code: 'method_not_allowed' });
      expect(wrong.headers.allow).toBe('POST');
      const del = await t.app.inject({ method: 'GET', url: '/v1/sessions/abc' });
      expect(del.statusCode).toBe(405);
      const big = await t.app.inject({
        method: 'POST',
        url: '/v1/login',
        headers: { 'content-type': 'application/json' },
        payload: JSON.stringify({ username: 'a', password: 'x'.repeat(17 * 1024) }),
      });
      expect(problemOf(big)).toMatchObject({ status: 413, code: 'payload_too_large' });
      for (const type of ['text/plain', 'application/xml', 'application/x-www-form-urlencoded']) {
        const res = await t.app.inject({
          method: 'POST',
          url: '/v1/login',
          headers: { 'content-type': type },
          payload: 'a=b',
        });
        expect(problemOf(res)).toMatchObject({ status: 415, code: 'unsupported_media_type' });
      }
      const bad = await t.app.inject({
        method: 'POST',
        url: '/v1/login',
        headers: { 'content-type': 'application/json' },
        payload: '{"username":',
      });
      expect(problemOf(bad)).toMatchObject({ status: 400, code: 'invalid_request' });
      const empty = await t.app.inject({ method: 'POST', url: '/v1/login' });
      expect(problemOf(empty)).toMatchObject({ status: 400, code: 'invalid_request' });
      const emptyJson = await t.app.inject({
        method: 'POST',
        url: '/v1/login',
        headers: { 'content-type': 'application/json' },
      });
      expect(problemOf(emptyJson)).toMatchObject({ status: 400, code: 'invalid_request' });
      const proto = await t.app.inject({
        method: 'POST',
        url: '/v1/login',
        headers: { 'content-type': 'application/json' },
        payload: '{"__proto__":{"x":1},"username":"a","password":"b"}',
      });
      expect(problemOf(proto)).toMatchObject({ status: 400, code: 'invalid_request' });
      const refreshNoBody = await t.app.inject({
        method: 'POST',
        url: '/v1/refresh',
        headers: { 'content-type': 'application/json' },
      });
      expect(problemOf(refreshNoBody)).toMatchObject({ status: 401, code: 'invalid_token' });
    } finally {
      await t.close();
    }
  });

  it('429 rate_limited with Retry-After per username, then lets the user in again', async () => {
    const clock = new ManualClock(Date.now());
    const t = await createTestApp(
      { TESSERA_LOGIN_RATE_USER: '3', TESSERA_LOGIN_RATE_WINDOW: '1m' },
      { clock },
    );
    try {
      await t.addUser('alice', PASSWORD);
      for (let i = 0; i < 3; i++) expect((await t.login('alice', 'wrong password')).statusCode).toBe(401);
      const limited = await t.login('alice', PASSWORD);
      expect(problemOf(limited)).toMatchObject({ status: 429, code: 'rate_limited' });
      expect(Number(limited.headers['retry-after'])).toBeGreaterThanOrEqual(1);
      expect(Number(limited.headers['retry-after'])).toBeLessThanOrEqual(60);
      clock.advance(61_000);
      expect((await t.login('alice', PASSWORD)).statusCode).toBe(200);
    } finally {
      await t.close();
    }
  });

  it('429 per IP across usernames', async () => {
    const t = await createTestApp({ TESSERA_LOGIN_RATE_IP: '2' });
    try {
      expect((await t.login('a1', 'password1')).statusCode).toBe(401);
      expect((await t.login('a2', 'password1')).statusCode).toBe(401);
      expect((await t.login('a3', 'password1')).json().code).toBe('rate_limited');
    } finally {
      await t.close();
    }
  });

  it('409 session_exists with reject, unless force', async () => {
    const t = await createTestApp({ TESSERA_CONCURRENCY: 'reject' });
    try {
      await t.addUser('alice', PASSWORD);
      expect((await t.login('alice', PASSWORD)).statusCode).toBe(200);
      expect(problemOf(await t.login('alice', PASSWORD))).toMatchObject({
        status: 409,
        code: 'session_exists',
      });
      const forced = await t.app.inject({
        method: 'POST',
        url: '/v1/login',
        payload: { username: 'alice', password: PASSWORD, force: true },
      });
      expect(forced.statusCode).toBe(200);
    } finally {
      await t.close();
    }
  });

  it('409 access_token_active with the strict refresh policy', async () => {
    const t = await createTestApp({ TESSERA_REFRESH_POLICY: 'strict' });
    try {
      await t.addUser('alice', PASSWORD);
      const tokens = (await t.login('alice', PASSWORD)).json();
      const res = await t.app.inject({
        method: 'POST',
        url: '/v1/refresh',
        payload: { refreshToken: tokens.refreshToken },
      });
      expect(problemOf(res)).toMatchObject({ status: 409, code: 'access_token_active' });
    } finally {
      await t.close();
    }
  });

  it('401 refresh_token_reused after grace, session_expired, token_expired', async () => {
    const clock = new ManualClock(Date.now());
    const t = await createTestApp(
      { TESSERA_REFRESH_GRACE: '5s', TESSERA_IDLE_TIMEOUT: '1h', TESSERA_ACCESS_TTL: '5m' },
      { clock },
    );
    try {
      await t.addUser('alice', PASSWORD);
      const first = (await t.login('alice', PASSWORD)).json();
      const refresh = (token: string) =>
        t.app.inject({ method: 'POST', url: '/v1/refresh', payload: { refreshToken: token } });
      expect((await refresh(first.refreshToken)).statusCode).toBe(200);
      clock.advance(6_000);
      expect(problemOf(await refresh(first.refreshToken))).toMatchObject({
        status: 401,
        code: 'refresh_token_reused',
      });
      const metrics = (await t.app.inject({ url: '/metrics' })).body;
      expect(metrics).toMatch(/tessera_refresh_reuse_detected_total 1/);

      const second = (await t.login('alice', PASSWORD)).json();
      clock.advance(10 * 60_000);
      const expired = await t.app.inject({
        url: '/v1/session',
        headers: { authorization: `Bearer ${second.accessToken}` },
      });
      expect(problemOf(expired)).toMatchObject({ status: 401, code: 'token_expired' });
      clock.advance(2 * 3_600_000);
      expect(problemOf(await refresh(second.refreshToken))).toMatchObject({
        status: 401,
        code: 'session_expired',
      });
    } finally {
      await t.close();
    }
  });

  it('opaque mode: a session unused past the idle timeout is 401 session_expired; use slides it', async () => {
    const clock = new ManualClock(Date.now());
    const t = await createTestApp({ TESSERA_TOKEN_MODE: 'opaque', TESSERA_IDLE_TIMEOUT: '1h' }, { clock });
    try {
      await t.addUser('alice', PASSWORD);
      const a = (await t.login('alice', PASSWORD)).json();
      const b = (await t.login('alice', PASSWORD)).json();
      const session = (token: string) =>
        t.app.inject({ url: '/v1/session', headers: { authorization: `Bearer ${token}` } });
      clock.advance(40 * 60_000);
      expect((await session(b.accessToken)).statusCode).toBe(200); // b is used: slides
      clock.advance(40 * 60_000);
      expect((await session(b.accessToken)).statusCode).toBe(200);
      const expired = await session(a.accessToken);
      expect(problemOf(expired)).toMatchObject({ status: 401, code: 'session_expired' });
    } finally {
      await t.close();
    }
  });

  it('503 store_unavailable with Retry-After when Redis is down; /readyz follows', async () => {
    const redis = await startRedis();
    const client = createRedisClient({ kind: 'single', url: redis.url });
    await connectRedis(client);
    const store = createRedisStore({ client, revocationRetentionMs: 700_000 });
    const t = await createTestApp({}, { store });
    try {
      await t.addUser('alice', PASSWORD);
      const tokens = (await t.login('alice', PASSWORD)).json();
      expect((await t.app.inject({ url: '/readyz' })).statusCode).toBe(200);
      await redis.stop();
      const checks = [
        await t.login('alice', PASSWORD),
        await t.app.inject({
          url: '/v1/session',
          headers: { authorization: `Bearer ${tokens.accessToken}` },
        }),
        await t.app.inject({
          method: 'POST',
          url: '/v1/refresh',
          payload: { refreshToken: tokens.refreshToken },
        }),
        await t.app.inject({ url: '/readyz' }),
      ];
      for (const res of checks) {
        const body = problemOf(res);
        expect(body).toMatchObject({ status: 503, code: 'store_unavailable' });
        expect(res.headers['retry-after']).toMatch(/^\d+$/);
        expect(res.body).not.toMatch(/ECONNREFUSED|redis|stack|at /i);
      }
      expect((await t.app.inject({ url: '/healthz' })).statusCode).toBe(200);
      expect((await t.app.inject({ url: '/metrics' })).body).toMatch(/tessera_store_errors_total [1-9]/);
    } finally {
      await t.close();
      await store.close();
    }
  });
});
