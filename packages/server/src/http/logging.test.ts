import { createTestApp } from '@tessera/testkit/auth-service';
import { describe, expect, it } from 'vitest';

const PASSWORD = 'a very secret password 42';

describe('request logs', () => {
  it('one line per request with id, route, status, latency, user and session; never a credential', async () => {
    const t = await createTestApp({ LOG_LEVEL: 'info' });
    try {
      await t.addUser('alice', PASSWORD);
      const tokens = (await t.login('alice', PASSWORD, { 'x-request-id': 'req-123' })).json();
      const cookie = (await t.login('alice', PASSWORD, { 'x-tessera-transfer': 'cookie' })).headers[
        'set-cookie'
      ];
      await t.app.inject({ url: '/v1/session', headers: { authorization: `Bearer ${tokens.accessToken}` } });
      await t.app.inject({
        method: 'POST',
        url: '/v1/refresh',
        payload: { refreshToken: tokens.refreshToken },
      });
      await t.app.inject({
        url: `/v1/session?token=${tokens.accessToken}`,
        headers: { cookie: `tessera_access=${tokens.accessToken}` },
      });
      await t.login('alice', 'wrong password 123');
      const lines = t.logs.map((l) => JSON.parse(l) as Record<string, unknown>);
      const requests = lines.filter((l) => l.msg === 'request');
      expect(requests.length).toBe(7); // admin add + 6 above
      const login = requests.find((l) => l.reqId === 'req-123');
      expect(login).toMatchObject({
        route: '/v1/login',
        status: 200,
        userId: tokens.session.userId,
        sessionId: tokens.session.id,
      });
      expect(typeof login?.latencyMs).toBe('number');
      const all = t.logs.join('\n');
      const secrets = [
        PASSWORD,
        'wrong password 123',
        tokens.accessToken,
        tokens.refreshToken,
        ...(Array.isArray(cookie) ? cookie : [String(cookie)])
          .map((c) => c.split(';')[0]?.split('=')[1] ?? '')
          .filter((v) => v.length > 10),
      ];
      for (const secret of secrets) expect(all).not.toContain(secret);
      expect(all).not.toContain(tokens.accessToken.split('.')[2]);
    } finally {
      await t.close();
    }
  });

  it('successful /v1/authorize answers are logged at debug only; refusals and other requests at info', async () => {
    for (const level of ['info', 'debug'] as const) {
      const t = await createTestApp({ LOG_LEVEL: level });
      try {
        await t.addUser('alice', PASSWORD);
        const tokens = (await t.login('alice', PASSWORD)).json();
        const ok = await t.app.inject({
          url: '/v1/authorize',
          headers: { authorization: `Bearer ${tokens.accessToken}`, 'x-request-id': 'fwd-ok' },
        });
        expect(ok.statusCode).toBe(200);
        const refused = await t.app.inject({
          url: '/v1/authorize',
          headers: { authorization: 'Bearer not-a-token', 'x-request-id': 'fwd-refused' },
        });
        expect(refused.statusCode).toBe(401);
        const lines = t.logs.map((l) => JSON.parse(l) as Record<string, unknown>);
        const byId = (id: string) => lines.filter((l) => l.msg === 'request' && l.reqId === id);
        expect(byId('fwd-refused')).toEqual([
          expect.objectContaining({ route: '/v1/authorize', status: 401, level: 30 }),
        ]);
        if (level === 'info') expect(byId('fwd-ok')).toEqual([]);
        else {
          expect(byId('fwd-ok')).toEqual([
            expect.objectContaining({
              route: '/v1/authorize',
              status: 200,
              level: 20,
              userId: tokens.session.userId,
            }),
          ]);
        }
        const metrics = await t.app.inject({ url: '/metrics' });
        expect(metrics.body).toMatch(
          /tessera_http_request_duration_seconds_count\{[^}]*route="\/v1\/authorize"[^}]*status="200"[^}]*\} 1/,
        );
      } finally {
        await t.close();
      }
    }
  });
});
