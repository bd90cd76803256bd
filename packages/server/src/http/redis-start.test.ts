import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, startRedis } from '@tessera/testkit';
import { TEST_PASSWORD_PARAMS } from '@tessera/testkit/auth-service';
import { describe, expect, it } from 'vitest';
import { buildAuthServer } from '../app.ts';
import { loadConfig } from '../config/env-config.ts';

describe('Redis configured by the environment', () => {
  it('starts while Redis is down (503, not ready), and recovers when it comes up', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'tessera-redis-start-'));
    const port = await freePort();
    const config = loadConfig({
      TESSERA_DATA_DIR: dataDir,
      TESSERA_USERS: 'memory',
      TESSERA_REDIS_URL: `redis://127.0.0.1:${port}`,
      TESSERA_ADMIN_TOKEN: 'admin-token-0123456789abcdef',
      LOG_LEVEL: 'silent',
    });
    const app = await buildAuthServer(config, { passwordParams: TEST_PASSWORD_PARAMS });
    try {
      const down = await app.inject({ url: '/readyz' });
      expect(down.statusCode).toBe(503);
      expect(down.json().code).toBe('store_unavailable');
      const login = await app.inject({
        method: 'POST',
        url: '/v1/login',
        payload: { username: 'a', password: 'bbbbbbbb' },
      });
      expect(login.statusCode).toBe(503);
      expect(login.headers['retry-after']).toBeDefined();
      const redis = await startRedis([], port);
      try {
        let ready = 0;
        for (let i = 0; i < 60 && ready !== 200; i++) {
          await new Promise((r) => setTimeout(r, 100));
          ready = (await app.inject({ url: '/readyz' })).statusCode;
        }
        expect(ready).toBe(200);
        const created = await app.inject({
          method: 'POST',
          url: '/v1/admin/users',
          headers: { authorization: 'Bearer admin-token-0123456789abcdef' },
          payload: { username: 'alice', password: 'correct horse', roles: [] },
        });
        expect(created.statusCode).toBe(201);
        const ok = await app.inject({
          method: 'POST',
          url: '/v1/login',
          payload: { username: 'alice', password: 'correct horse' },
        });
        expect(ok.statusCode).toBe(200);
      } finally {
        await redis.stop();
      }
    } finally {
      await app.close();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
