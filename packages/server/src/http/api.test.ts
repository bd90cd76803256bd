import { type RedisServer, startRedis } from '@tessera/testkit';
import { createTestApp, createTestRedisStore, type TestApp } from '@tessera/testkit/auth-service';
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
const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

describe.each([
  ['jwt', 'memory'],
  ['jwt', 'redis'],
  ['opaque', 'memory'],
  ['opaque', 'redis'],
] as const)('auth API, %s mode, %s store', (mode, storeKind) => {
  let t: TestApp;
  let userId: string;
  beforeEach(async () => {
    const store = storeKind === 'redis' ? await redisStore() : undefined;
    t = await createTestApp({ TESSERA_TOKEN_MODE: mode }, store ? { store } : {});
    userId = await t.addUser('Alice', PASSWORD, ['admin', 'ops']);
    return async () => {
      await t.close();
      await store?.close();
    };
  });

  it('logs in and answers a TokenResponse', async () => {
    const res = await t.login('ALICE', PASSWORD, { 'user-agent': 'vitest/1' });
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body.tokenType).toBe('Bearer');
    expect(body.expiresIn).toBeGreaterThan(0);
    expect(typeof body.accessToken).toBe('string');
    if (mode === 'jwt') expect(body.refreshToken).toMatch(/^tsr_/);
    else expect(body).not.toHaveProperty('refreshToken');
    expect(body.session).toMatchObject({
      userId,
      roles: ['admin', 'ops'],
      userAgent: 'vitest/1',
      current: true,
    });
    for (const key of ['createdAt', 'lastSeenAt', 'expiresAt']) {
      expect(new Date(body.session[key]).toISOString()).toBe(body.session[key]);
    }
    expect(res.headers['cache-control']).toBe('no-store');
  });

  it('refuses wrong passwords and unknown users alike', async () => {
    const wrong = await t.login('alice', 'not the password');
    const unknown = await t.login('mallory', 'not the password');
    for (const res of [wrong, unknown]) {
      expect(res.statusCode).toBe(401);
      expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(res.json()).toMatchObject({
        status: 401,
        code: 'invalid_credentials',
        title: expect.any(String),
      });
    }
    expect(wrong.json().detail).toBe(unknown.json().detail);
  });

  it('rejects a malformed login body with invalid_request', async () => {
    for (const payload of [
      { username: 'alice' },
      { username: 1, password: 'x' },
      { username: 'a', password: 'b', extra: 1 },
    ]) {
      const res = await t.app.inject({ method: 'POST', url: '/v1/login', payload });
      expect(res.statusCode).toBe(400);
      expect(res.json().code).toBe('invalid_request');
    }
  });

  it('GET /v1/session, /v1/sessions and DELETE /v1/sessions/{id}', async () => {
    const first = (await t.login('alice', PASSWORD)).json();
    const second = (await t.login('alice', PASSWORD)).json();
    const session = await t.app.inject({ url: '/v1/session', headers: bearer(first.accessToken) });
    expect(session.statusCode).toBe(200);
    expect(session.json()).toEqual({
      session: expect.objectContaining({ id: first.session.id, current: true }),
      user: { id: userId, username: 'alice', roles: ['admin', 'ops'] },
    });
    const list = await t.app.inject({ url: '/v1/sessions', headers: bearer(first.accessToken) });
    const sessions = list.json().sessions as Array<{ id: string; current: boolean }>;
    expect(sessions.map((s) => s.id).sort()).toEqual([first.session.id, second.session.id].sort());
    expect(sessions.find((s) => s.current)?.id).toBe(first.session.id);

    const del = await t.app.inject({
      method: 'DELETE',
      url: `/v1/sessions/${second.session.id}`,
      headers: bearer(first.accessToken),
    });
    expect(del.statusCode).toBe(204);
    const again = await t.app.inject({
      method: 'DELETE',
      url: `/v1/sessions/${second.session.id}`,
      headers: bearer(first.accessToken),
    });
    expect(again.json().code).toBe('not_found');
    const gone = await t.app.inject({ url: '/v1/session', headers: bearer(second.accessToken) });
    expect(gone.statusCode).toBe(401);
  });

  it("answers 404 for another user's session", async () => {
    await t.addUser('bob', PASSWORD);
    const alice = (await t.login('alice', PASSWORD)).json();
    const bob = (await t.login('bob', PASSWORD)).json();
    const res = await t.app.inject({
      method: 'DELETE',
      url: `/v1/sessions/${bob.session.id}`,
      headers: bearer(alice.accessToken),
    });
    expect(res.statusCode).toBe(404);
    expect(res.json().code).toBe('not_found');
    expect((await t.app.inject({ url: '/v1/session', headers: bearer(bob.accessToken) })).statusCode).toBe(
      200,
    );
  });

  it('401 invalid_token without or with a garbage credential', async () => {
    for (const headers of [{}, bearer('garbage'), { authorization: 'Basic abc' }]) {
      for (const url of ['/v1/session', '/v1/sessions']) {
        const res = await t.app.inject({ url, headers });
        expect(res.statusCode).toBe(401);
        expect(res.json().code).toBe('invalid_token');
        expect(res.headers['www-authenticate']).toContain('Bearer');
      }
    }
  });

  it('logout ends the session (then session_revoked); logout/all ends every session', async () => {
    const a = (await t.login('alice', PASSWORD)).json();
    const b = (await t.login('alice', PASSWORD)).json();
    const c = (await t.login('alice', PASSWORD)).json();
    expect(
      (await t.app.inject({ method: 'POST', url: '/v1/logout', headers: bearer(a.accessToken) })).statusCode,
    ).toBe(204);
    const after = await t.app.inject({ url: '/v1/session', headers: bearer(a.accessToken) });
    expect(after.statusCode).toBe(401);
    expect(['session_revoked', 'invalid_token']).toContain(after.json().code);
    const bad = await t.app.inject({ method: 'POST', url: '/v1/logout', headers: bearer('nope') });
    expect(bad.json().code).toBe('invalid_token');
    expect((await t.app.inject({ method: 'POST', url: '/v1/logout/all', headers: bear(b) })).statusCode).toBe(
      204,
    );
    for (const s of [b, c])
      expect((await t.app.inject({ url: '/v1/session', headers: bear(s) })).statusCode).toBe(401);
    expect(
      (await t.app.inject({ method: 'POST', url: '/v1/logout/all', headers: bearer('nope') })).json().code,
    ).toBe('invalid_token');
  });

  it('GET /v1/authorize answers identity headers or 401', async () => {
    const a = (await t.login('alice', PASSWORD)).json();
    const ok = await t.app.inject({ url: '/v1/authorize', headers: bearer(a.accessToken) });
    expect(ok.statusCode).toBe(200);
    expect(ok.headers['x-user-id']).toBe(userId);
    expect(ok.headers['x-user-roles']).toBe('admin,ops');
    expect(ok.headers['x-session-id']).toBe(a.session.id);
    const cookieName = mode === 'jwt' ? 'tessera_access' : 'tessera_session';
    const viaCookie = await t.app.inject({ url: '/v1/authorize', cookies: { [cookieName]: a.accessToken } });
    expect(viaCookie.statusCode).toBe(200);
    expect((await t.app.inject({ url: '/v1/authorize' })).statusCode).toBe(401);
    await t.app.inject({ method: 'POST', url: '/v1/logout', headers: bear(a) });
    expect((await t.app.inject({ url: '/v1/authorize', headers: bear(a) })).statusCode).toBe(401);
  });

  it.runIf(mode === 'jwt')('refresh rotates, detects reuse after grace, and refuses garbage', async () => {
    const a = (await t.login('alice', PASSWORD)).json();
    const r1 = await t.app.inject({
      method: 'POST',
      url: '/v1/refresh',
      payload: { refreshToken: a.refreshToken },
    });
    expect(r1.statusCode).toBe(200);
    const next = r1.json();
    expect(next.refreshToken).not.toBe(a.refreshToken);
    expect(next.session.id).toBe(a.session.id);
    // within the grace window the same (old) token answers the same successor
    const replay = await t.app.inject({
      method: 'POST',
      url: '/v1/refresh',
      payload: { refreshToken: a.refreshToken },
    });
    expect(replay.statusCode).toBe(200);
    expect(replay.json().refreshToken).toBe(next.refreshToken);
    const garbage = await t.app.inject({
      method: 'POST',
      url: '/v1/refresh',
      payload: { refreshToken: 'tsr_nope' },
    });
    expect(garbage.json().code).toBe('invalid_token');
    const missing = await t.app.inject({ method: 'POST', url: '/v1/refresh' });
    expect(missing.json().code).toBe('invalid_token');
  });
});

function bear(tokens: { accessToken: string }) {
  return bearer(tokens.accessToken);
}
