import { type RedisServer, startRedis } from '@tessera/testkit';
import {
  ADMIN_TOKEN,
  createTestApp,
  createTestRedisStore,
  type TestApp,
} from '@tessera/testkit/auth-service';
import { createLocalJWKSet, jwtVerify } from 'jose';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';

let redis: RedisServer;
beforeAll(async () => {
  redis = await startRedis();
});
afterAll(async () => {
  await redis?.stop();
});

const redisStore = () => createTestRedisStore(redis.url);

const PASSWORD = 'correct horse battery';
const admin = { authorization: `Bearer ${ADMIN_TOKEN}` };
const form = { 'content-type': 'application/x-www-form-urlencoded' };

describe.each([
  ['jwt', 'memory'],
  ['jwt', 'redis'],
  ['opaque', 'memory'],
  ['opaque', 'redis'],
] as const)('admin API, discovery and operations (%s mode, %s store)', (mode, storeKind) => {
  let t: TestApp;
  beforeEach(async () => {
    const store = storeKind === 'redis' ? await redisStore() : undefined;
    t = await createTestApp({ TESSERA_TOKEN_MODE: mode }, store ? { store } : {});
    await t.addUser('alice', PASSWORD, ['admin']);
    return async () => {
      await t.close();
      await store?.close();
    };
  });

  it('introspects (RFC 7662) and revokes (RFC 7009) with the admin bearer only', async () => {
    const tokens = (await t.login('alice', PASSWORD)).json();
    const payload = `token=${encodeURIComponent(tokens.accessToken)}`;
    for (const url of ['/v1/introspect', '/v1/revoke']) {
      for (const headers of [form, { ...form, authorization: 'Bearer wrong-admin-token-123456' }]) {
        const res = await t.app.inject({ method: 'POST', url, headers, payload });
        expect(res.statusCode).toBe(401);
        expect(res.json().code).toBe('unauthorized');
      }
    }
    const active = await t.app.inject({
      method: 'POST',
      url: '/v1/introspect',
      headers: { ...form, ...admin },
      payload,
    });
    expect(active.statusCode).toBe(200);
    expect(active.json()).toMatchObject({
      active: true,
      sub: tokens.session.userId,
      sid: tokens.session.id,
      roles: ['admin'],
      exp: expect.any(Number),
      iat: expect.any(Number),
      token_type: expect.any(String),
    });
    const unknown = await t.app.inject({
      method: 'POST',
      url: '/v1/introspect',
      headers: { ...form, ...admin },
      payload: 'token=nope',
    });
    expect(unknown.json()).toEqual({ active: false });
    expect(
      (
        await t.app.inject({
          method: 'POST',
          url: '/v1/revoke',
          headers: { ...form, ...admin },
          payload: 'token=nope',
        })
      ).statusCode,
    ).toBe(200);
    const revoked = await t.app.inject({
      method: 'POST',
      url: '/v1/revoke',
      headers: { ...form, ...admin },
      payload,
    });
    expect(revoked.statusCode).toBe(200);
    const after = await t.app.inject({
      method: 'POST',
      url: '/v1/introspect',
      headers: { ...form, ...admin },
      payload,
    });
    expect(after.json()).toEqual({ active: false });
    const missing = await t.app.inject({
      method: 'POST',
      url: '/v1/introspect',
      headers: { ...form, ...admin },
      payload: 'x=1',
    });
    expect(missing.json().code).toBe('invalid_request');
  });

  it('admin users and sessions API', async () => {
    const created = await t.app.inject({
      method: 'POST',
      url: '/v1/admin/users',
      headers: admin,
      payload: { username: 'Bob', password: PASSWORD, roles: ['x'] },
    });
    expect(created.statusCode).toBe(201);
    expect(created.json().id).toMatch(/^[A-Za-z0-9_-]{1,64}$/);
    const dup = await t.app.inject({
      method: 'POST',
      url: '/v1/admin/users',
      headers: admin,
      payload: { username: 'BOB', password: PASSWORD, roles: [] },
    });
    expect(dup.statusCode).toBe(409);
    expect(dup.json().code).toBe('user_exists');
    const short = await t.app.inject({
      method: 'POST',
      url: '/v1/admin/users',
      headers: admin,
      payload: { username: 'c', password: 'short', roles: [] },
    });
    expect(short.json().code).toBe('invalid_request');
    expect(
      (
        await t.app.inject({
          method: 'POST',
          url: '/v1/admin/users',
          payload: { username: 'd', password: PASSWORD, roles: [] },
        })
      ).statusCode,
    ).toBe(401);

    const tokens = (await t.login('bob', PASSWORD)).json();
    const list = await t.app.inject({ url: '/v1/admin/users/bob/sessions', headers: admin });
    expect(list.statusCode).toBe(200);
    expect(list.json().sessions.map((s: { id: string }) => s.id)).toEqual([tokens.session.id]);
    expect((await t.app.inject({ url: '/v1/admin/users/nobody/sessions', headers: admin })).json().code).toBe(
      'not_found',
    );
    expect((await t.app.inject({ url: '/v1/admin/users/bob/sessions' })).statusCode).toBe(401);
    const del = await t.app.inject({ method: 'DELETE', url: '/v1/admin/users/bob/sessions', headers: admin });
    expect(del.statusCode).toBe(204);
    expect(
      (await t.app.inject({ url: '/v1/session', headers: { authorization: `Bearer ${tokens.accessToken}` } }))
        .statusCode,
    ).toBe(401);
    expect(
      (await t.app.inject({ method: 'DELETE', url: '/v1/admin/users/nobody/sessions', headers: admin }))
        .statusCode,
    ).toBe(404);
  });

  it('serves JWKS with Cache-Control, RFC 8414 metadata, health, readiness and metrics', async () => {
    const jwks = await t.app.inject({ url: '/.well-known/jwks.json' });
    expect(jwks.statusCode).toBe(200);
    expect(jwks.headers['cache-control']).toMatch(/max-age=\d+/);
    const set = jwks.json();
    expect(set.keys.length).toBeGreaterThan(0);
    for (const key of set.keys) {
      expect(key).toMatchObject({
        kty: expect.any(String),
        kid: expect.any(String),
        alg: 'EdDSA',
        use: 'sig',
      });
      for (const secret of ['d', 'p', 'q', 'dp', 'dq', 'qi']) expect(key).not.toHaveProperty(secret);
    }
    if (mode === 'jwt') {
      const tokens = (await t.login('alice', PASSWORD)).json();
      const { payload, protectedHeader } = await jwtVerify(tokens.accessToken, createLocalJWKSet(set), {
        issuer: 'http://auth.test',
        audience: 'tessera',
      });
      expect(protectedHeader.typ).toBe('at+jwt');
      expect(payload).toMatchObject({ sub: tokens.session.userId, sid: tokens.session.id, roles: ['admin'] });
    }
    const meta = (await t.app.inject({ url: '/.well-known/oauth-authorization-server' })).json();
    expect(meta).toMatchObject({
      issuer: 'http://auth.test',
      jwks_uri: 'http://auth.test/.well-known/jwks.json',
      introspection_endpoint: 'http://auth.test/v1/introspect',
      revocation_endpoint: 'http://auth.test/v1/revoke',
    });
    expect((await t.app.inject({ url: '/healthz' })).statusCode).toBe(200);
    expect((await t.app.inject({ url: '/readyz' })).statusCode).toBe(200);
    await t.login('alice', PASSWORD);
    await t.login('alice', 'wrong password');
    const metrics = await t.app.inject({ url: '/metrics' });
    expect(metrics.headers['content-type']).toMatch(/^text\/plain/);
    for (const name of [
      'tessera_logins_total{outcome="success"}',
      'tessera_logins_total{outcome="invalid_credentials"}',
      'tessera_refreshes_total',
      'tessera_refresh_reuse_detected_total',
      'tessera_revocations_total',
      'tessera_active_sessions',
      'tessera_http_request_duration_seconds_bucket',
      'tessera_store_errors_total',
    ]) {
      expect(metrics.body).toContain(name);
    }
    expect(metrics.body).toMatch(/route="\/v1\/login"/);
  });
});

describe('admin API off', () => {
  it('answers 404 not_found when TESSERA_ADMIN_TOKEN is unset', async () => {
    const t = await createTestApp({ TESSERA_ADMIN_TOKEN: '' });
    try {
      for (const [method, url] of [
        ['POST', '/v1/introspect'],
        ['POST', '/v1/revoke'],
        ['POST', '/v1/admin/users'],
        ['GET', '/v1/admin/users/a/sessions'],
      ] as const) {
        const res = await t.app.inject({
          method,
          url,
          headers: { ...form, authorization: 'Bearer anything-at-all-123456' },
          payload: 'token=x',
        });
        expect(res.statusCode).toBe(404);
        expect(res.json().code).toBe('not_found');
      }
    } finally {
      await t.close();
    }
  });
});
