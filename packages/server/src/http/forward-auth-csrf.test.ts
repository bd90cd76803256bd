import { createTestApp } from '@tessera/testkit/auth-service';
import { describe, expect, it } from 'vitest';

const PASSWORD = 'correct horse battery';
const GATEWAY = 'https://shop.example';

describe('/v1/authorize decides for the forwarded request (contract §3 "Forward-auth")', () => {
  it('applies the CSRF rule to the forwarded method for cookie credentials only', async () => {
    const t = await createTestApp({ TESSERA_ALLOWED_ORIGINS: GATEWAY });
    try {
      await t.addUser('alice', PASSWORD);
      const login = await t.login('alice', PASSWORD, { 'x-tessera-transfer': 'cookie' });
      const access = login.cookies.find((c) => c.name === 'tessera_access')?.value as string;
      const bearer = (await t.login('alice', PASSWORD)).json().accessToken as string;
      const ask = (headers: Record<string, string>, method: 'GET' | 'POST' = 'GET') =>
        t.app.inject({ method, url: '/v1/authorize', headers });
      const cookie = `tessera_access=${access}`;

      for (const forwarded of [
        { 'x-forwarded-method': 'POST', 'x-forwarded-uri': '/orders' }, // Traefik, Envoy
        { 'x-original-method': 'DELETE', 'x-original-uri': '/orders/1' }, // nginx
      ]) {
        const foreign = await ask({ cookie, origin: 'https://evil.example', ...forwarded });
        expect(foreign.statusCode).toBe(403);
        expect(foreign.json()).toMatchObject({ code: 'csrf' });
        expect(foreign.headers['x-tessera-error']).toBe('csrf');
        expect((await ask({ cookie, ...forwarded })).statusCode).toBe(403);
        expect((await ask({ cookie, origin: GATEWAY, ...forwarded })).statusCode).toBe(200);
        expect((await ask({ cookie, 'x-tessera-csrf': '1', ...forwarded })).statusCode).toBe(200);
        expect(
          (await ask({ authorization: `Bearer ${bearer}`, origin: 'https://evil.example', ...forwarded }))
            .statusCode,
        ).toBe(200);
      }
      // A forwarded GET with a cookie passes; a client-added "GET" cannot hide the gateway's POST.
      expect(
        (await ask({ cookie, 'x-forwarded-method': 'GET', origin: 'https://evil.example' })).statusCode,
      ).toBe(200);
      const disguised = await ask({
        cookie,
        'x-forwarded-method': 'GET',
        'x-original-method': 'POST',
        origin: 'https://evil.example',
      });
      expect(disguised.statusCode).toBe(403);
      expect((await ask({ cookie, 'x-forwarded-method': 'P O S T' })).statusCode).toBe(403);
      // Envoy keeps the method on the check request itself.
      expect((await ask({ cookie, origin: 'https://evil.example' }, 'POST')).statusCode).toBe(403);
      const none = await ask({});
      expect(none.statusCode).toBe(401);
      expect(none.headers['x-tessera-error']).toBe('invalid_token');
    } finally {
      await t.close();
    }
  });
});
