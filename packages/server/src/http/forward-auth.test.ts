import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type RedisServer, startRedis } from '@tessera/testkit';
import { ADMIN_TOKEN, TEST_PASSWORD_PARAMS } from '@tessera/testkit/auth-service';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildAuthServer } from '../app.ts';
import { loadConfig } from '../config/env-config.ts';

const PASSWORD = 'correct horse battery';

describe('/v1/authorize on the revocation feed (jwt mode, Redis)', () => {
  let redis: RedisServer;
  let app: FastifyInstance;
  let dataDir: string;

  beforeAll(async () => {
    redis = await startRedis();
    dataDir = mkdtempSync(join(tmpdir(), 'tessera-fwd-'));
    const config = loadConfig({
      TESSERA_DATA_DIR: dataDir,
      TESSERA_USERS: 'memory',
      TESSERA_REDIS_URL: redis.url,
      TESSERA_ADMIN_TOKEN: ADMIN_TOKEN,
      LOG_LEVEL: 'silent',
      TESSERA_LOGIN_RATE_USER: '1000',
    });
    app = await buildAuthServer(config, { passwordParams: TEST_PASSWORD_PARAMS });
    await app.inject({
      method: 'POST',
      url: '/v1/admin/users',
      headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
      payload: { username: 'alice', password: PASSWORD, roles: ['admin'] },
    });
    for (let i = 0; i < 100 && !app.tessera.guard?.feedStatus()?.current; i++)
      await new Promise((r) => setTimeout(r, 50));
  });
  afterAll(async () => {
    await app?.close();
    await redis?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  const login = async () =>
    (
      await app.inject({
        method: 'POST',
        url: '/v1/login',
        payload: { username: 'alice', password: PASSWORD },
      })
    ).json() as {
      accessToken: string;
      session: { id: string };
    };
  const authorize = (token: string) =>
    app.inject({ url: '/v1/authorize', headers: { authorization: `Bearer ${token}` } });

  it('answers without a store lookup per request, and refuses a revoked session at once', async () => {
    expect(app.tessera.guard?.feedStatus()?.current).toBe(true);
    for (let i = 0; i < 20; i++) {
      const tokens = await login();
      const checksBefore = app.tessera.guard?.stats.storeChecks ?? 0;
      const ok = await authorize(tokens.accessToken);
      expect(ok.statusCode).toBe(200);
      expect(ok.headers['x-session-id']).toBe(tokens.session.id);
      expect(app.tessera.guard?.stats.storeChecks).toBe(checksBefore);
      const admin = { authorization: `Bearer ${ADMIN_TOKEN}` };
      const revocations = [
        () =>
          app.inject({
            method: 'POST',
            url: '/v1/logout',
            headers: { authorization: `Bearer ${tokens.accessToken}` },
          }),
        () =>
          app.inject({
            method: 'DELETE',
            url: `/v1/sessions/${tokens.session.id}`,
            headers: { authorization: `Bearer ${tokens.accessToken}` },
          }),
        () =>
          app.inject({
            method: 'POST',
            url: '/v1/revoke',
            headers: { ...admin, 'content-type': 'application/x-www-form-urlencoded' },
            payload: `token=${tokens.accessToken}`,
          }),
        () =>
          app.inject({ method: 'DELETE', url: `/v1/admin/sessions/${tokens.session.id}`, headers: admin }),
      ];
      const out = await (revocations[i % revocations.length] as () => ReturnType<typeof app.inject>)();
      expect([200, 204]).toContain(out.statusCode);
      expect((await authorize(tokens.accessToken)).statusCode).toBe(401);
    }
  });

  it('refuses every session of a user right after logout/all', async () => {
    const a = await login();
    const b = await login();
    expect((await authorize(b.accessToken)).statusCode).toBe(200);
    await app.inject({
      method: 'POST',
      url: '/v1/logout/all',
      headers: { authorization: `Bearer ${a.accessToken}` },
    });
    expect((await authorize(a.accessToken)).statusCode).toBe(401);
    expect((await authorize(b.accessToken)).statusCode).toBe(401);
    const c = await login();
    expect((await authorize(c.accessToken)).statusCode).toBe(200);
  });
});
