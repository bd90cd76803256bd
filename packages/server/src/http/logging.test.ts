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
});
