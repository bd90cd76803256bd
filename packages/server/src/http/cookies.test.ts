import { createTestApp, type TestApp } from '@tessera/testkit/auth-service';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

const PASSWORD = 'correct horse battery';
const COOKIE_LOGIN = { 'x-tessera-transfer': 'cookie' };

function cookiesOf(res: { headers: Record<string, unknown> }): string[] {
  const raw = res.headers['set-cookie'];
  return Array.isArray(raw) ? raw : typeof raw === 'string' ? [raw] : [];
}
function cookieValue(res: { headers: Record<string, unknown> }, name: string): string | undefined {
  const line = cookiesOf(res).find((c) => c.startsWith(`${name}=`));
  return line ? decodeURIComponent(line.slice(name.length + 1).split(';')[0] ?? '') : undefined;
}

describe('cookie transfer and CSRF (jwt mode)', () => {
  let t: TestApp;
  beforeEach(async () => {
    t = await createTestApp({
      TESSERA_COOKIE_SECURE: 'true',
      TESSERA_COOKIE_DOMAIN: 'auth.test',
      TESSERA_ALLOWED_ORIGINS: 'https://app.test',
    });
    await t.addUser('alice', PASSWORD);
  });
  afterEach(() => t.close());

  it('login with X-Tessera-Transfer: cookie sets HttpOnly cookies and keeps tokens out of the body', async () => {
    const res = await t.login('alice', PASSWORD, COOKIE_LOGIN);
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body).not.toHaveProperty('accessToken');
    expect(body).not.toHaveProperty('refreshToken');
    expect(body.session.id).toBeTruthy();
    const access = cookiesOf(res).find((c) => c.startsWith('tessera_access='));
    const refresh = cookiesOf(res).find((c) => c.startsWith('tessera_refresh='));
    expect(access).toMatch(/; Path=\/(;|$)/);
    expect(refresh).toMatch(/; Path=\/v1\/refresh/);
    for (const c of [access, refresh]) {
      expect(c).toMatch(/HttpOnly/);
      expect(c).toMatch(/SameSite=Lax/);
      expect(c).toMatch(/Secure/);
      expect(c).toMatch(/Domain=auth.test/);
    }
    expect(res.body).not.toContain(cookieValue(res, 'tessera_access'));
  });

  it('cookie-authenticated GET works; unsafe requests need Origin or X-Tessera-CSRF', async () => {
    const login = await t.login('alice', PASSWORD, COOKIE_LOGIN);
    const cookies = { tessera_access: cookieValue(login, 'tessera_access') ?? '' };
    expect((await t.app.inject({ url: '/v1/session', cookies })).statusCode).toBe(200);
    const refused = await t.app.inject({ method: 'POST', url: '/v1/logout/all', cookies });
    expect(refused.statusCode).toBe(403);
    expect(refused.json().code).toBe('csrf');
    const foreign = await t.app.inject({
      method: 'POST',
      url: '/v1/logout/all',
      cookies,
      headers: { origin: 'https://evil.test' },
    });
    expect(foreign.json().code).toBe('csrf');
    const other = await t.login('alice', PASSWORD, COOKIE_LOGIN);
    const del = await t.app.inject({
      method: 'DELETE',
      url: `/v1/sessions/${other.json().session.id}`,
      cookies,
      headers: { origin: 'https://app.test' },
    });
    expect(del.statusCode).toBe(204);
    const sameOrigin = await t.app.inject({
      method: 'POST',
      url: '/v1/logout',
      cookies,
      headers: { origin: 'http://auth.test' },
    });
    expect(sameOrigin.statusCode).toBe(204);
    const cleared = cookiesOf(sameOrigin);
    expect(cleared.find((c) => c.startsWith('tessera_access='))).toMatch(
      /Max-Age=0|Expires=Thu, 01 Jan 1970/,
    );
    expect(cleared.find((c) => c.startsWith('tessera_refresh='))).toMatch(/Path=\/v1\/refresh/);
  });

  it('a logout without a live access cookie still clears the cookies', async () => {
    const res = await t.app.inject({ method: 'POST', url: '/v1/logout', headers: { 'x-tessera-csrf': '1' } });
    expect(res.statusCode).toBe(401);
    expect(cookiesOf(res).find((c) => c.startsWith('tessera_refresh='))).toMatch(/Max-Age=0/);
  });

  it('refresh from the refresh cookie answers with new cookies (header CSRF)', async () => {
    const login = await t.login('alice', PASSWORD, COOKIE_LOGIN);
    const cookies = { tessera_refresh: cookieValue(login, 'tessera_refresh') ?? '' };
    expect((await t.app.inject({ method: 'POST', url: '/v1/refresh', cookies })).json().code).toBe('csrf');
    const res = await t.app.inject({
      method: 'POST',
      url: '/v1/refresh',
      cookies,
      headers: { 'x-tessera-csrf': '1' },
    });
    expect(res.statusCode).toBe(200);
    expect(res.json()).not.toHaveProperty('refreshToken');
    expect(cookieValue(res, 'tessera_refresh')).toMatch(/^tsr_/);
    expect(cookieValue(res, 'tessera_refresh')).not.toBe(cookies.tessera_refresh);
  });

  it('forward-auth answers any forwarded method and path (Envoy), with the CSRF rule for cookies', async () => {
    const login = await t.login('alice', PASSWORD, COOKIE_LOGIN);
    const cookies = { tessera_access: cookieValue(login, 'tessera_access') ?? '' };
    const get = await t.app.inject({ method: 'GET', url: '/v1/authorize/orders/1', cookies });
    expect(get.statusCode).toBe(200);
    expect(get.headers['x-session-id']).toBe(login.json().session.id);
    const post = await t.app.inject({ method: 'POST', url: '/v1/authorize/orders', cookies });
    expect(post.json().code).toBe('csrf');
    const sameSite = await t.app.inject({
      method: 'POST',
      url: '/v1/authorize/orders',
      cookies,
      headers: { origin: 'https://app.test' },
    });
    expect(sameSite.statusCode).toBe(200);
    const head = await t.app.inject({ method: 'HEAD', url: '/v1/authorize', cookies });
    expect(head.statusCode).toBe(200);
    expect(head.headers['x-user-id']).toBeTruthy();
  });

  it('a bearer request is not subject to the CSRF rule', async () => {
    const tokens = (await t.login('alice', PASSWORD)).json();
    const res = await t.app.inject({
      method: 'POST',
      url: '/v1/logout',
      headers: { authorization: `Bearer ${tokens.accessToken}` },
    });
    expect(res.statusCode).toBe(204);
  });
});

describe('cookie transfer (opaque mode, Secure off)', () => {
  it('sets tessera_session without Secure and logs out with it', async () => {
    const t = await createTestApp({ TESSERA_TOKEN_MODE: 'opaque', TESSERA_COOKIE_SECURE: 'false' });
    try {
      await t.addUser('alice', PASSWORD);
      const res = await t.login('alice', PASSWORD, COOKIE_LOGIN);
      const line = cookiesOf(res).find((c) => c.startsWith('tessera_session='));
      expect(line).toMatch(/HttpOnly/);
      expect(line).not.toMatch(/Secure/);
      expect(res.json()).not.toHaveProperty('accessToken');
      const cookies = { tessera_session: cookieValue(res, 'tessera_session') ?? '' };
      expect((await t.app.inject({ url: '/v1/authorize', cookies })).statusCode).toBe(200);
      const out = await t.app.inject({
        method: 'POST',
        url: '/v1/logout',
        cookies,
        headers: { 'x-tessera-csrf': '1' },
      });
      expect(out.statusCode).toBe(204);
      expect(cookiesOf(out).find((c) => c.startsWith('tessera_session='))).toMatch(/Max-Age=0/);
      expect((await t.app.inject({ url: '/v1/session', cookies })).statusCode).toBe(401);
    } finally {
      await t.close();
    }
  });
});
