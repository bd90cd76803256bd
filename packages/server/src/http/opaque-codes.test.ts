import { ManualClock } from '@tessera/core';
import { createGuard } from '@tessera/guard';
import { type RedisServer, startRedis } from '@tessera/testkit';
import { createTestApp, createTestRedisStore } from '@tessera/testkit/auth-service';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const PASSWORD = 'correct horse battery';

// Issue 9 §8: the guard and the auth service give one set of answers for opaque tokens
// (docs/errors.md), and no `error=` in WWW-Authenticate when no credential was sent.
describe('one set of error codes for opaque session tokens, auth service and guard', () => {
  let redis: RedisServer;
  beforeAll(async () => {
    redis = await startRedis();
  });
  afterAll(async () => {
    await redis?.stop();
  });

  it('gone → session_revoked, expired → session_expired, wrong secret → invalid_token, on both', async () => {
    const clock = new ManualClock(Date.now());
    const prefix = 'codes:';
    const store = await createTestRedisStore(redis.url, prefix);
    const t = await createTestApp(
      { TESSERA_TOKEN_MODE: 'opaque', TESSERA_IDLE_TIMEOUT: '1h' },
      { store, clock },
    );
    const guard = createGuard({
      tokenMode: 'opaque',
      redis: { kind: 'single', url: redis.url },
      keyPrefix: prefix,
      revocationCheck: 'request',
      store,
      clock,
      env: {},
    });
    try {
      await guard.ready();
      await t.addUser('alice', PASSWORD);
      const tokenOf = async () => (await t.login('alice', PASSWORD)).json().accessToken as string;
      const service = async (token: string) => {
        const res = await t.app.inject({ url: '/v1/session', headers: { authorization: `Bearer ${token}` } });
        expect(res.statusCode).toBe(401);
        expect(res.headers['www-authenticate']).toBe('Bearer error="invalid_token"');
        return (res.json() as { code: string }).code;
      };
      const guarded = async (token: string) => {
        const result = await guard.authenticate(token);
        return result.ok ? 'ok' : result.error.code;
      };

      const revoked = await tokenOf();
      expect(await guarded(revoked)).toBe('ok');
      const logout = await t.app.inject({
        method: 'POST',
        url: '/v1/logout',
        headers: { authorization: `Bearer ${revoked}` },
      });
      expect(logout.statusCode).toBe(204);
      expect([await service(revoked), await guarded(revoked)]).toEqual([
        'session_revoked',
        'session_revoked',
      ]);

      const wrong = `${revoked.slice(0, -4)}AAAA`;
      const live = await tokenOf();
      const forged = `${live.slice(0, -4)}${live.endsWith('AAAA') ? 'BBBB' : 'AAAA'}`;
      expect([await service(forged), await guarded(forged)]).toEqual(['invalid_token', 'invalid_token']);
      expect(await guarded(wrong)).not.toBe('ok');

      clock.advance(2 * 3_600_000);
      expect([await service(live), await guarded(live)]).toEqual(['session_expired', 'session_expired']);
    } finally {
      await guard.close();
      await t.close();
    }
  });

  it('no credential: WWW-Authenticate: Bearer without an error code (RFC 6750 §3.1)', async () => {
    const t = await createTestApp();
    try {
      const none = await t.app.inject({ url: '/v1/session' });
      expect(none.statusCode).toBe(401);
      expect(none.headers['www-authenticate']).toBe('Bearer');
      expect(none.json()).toMatchObject({ code: 'invalid_token' });
      const bad = await t.app.inject({ url: '/v1/session', headers: { authorization: 'Bearer nope' } });
      expect(bad.headers['www-authenticate']).toBe('Bearer error="invalid_token"');
      const gateway = await t.app.inject({ url: '/v1/authorize' });
      expect(gateway.headers['www-authenticate']).toBe('Bearer');
    } finally {
      await t.close();
    }
  });
});
