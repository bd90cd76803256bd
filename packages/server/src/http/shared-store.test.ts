import type { SessionStore } from '@tessera/core';
import { type RedisServer, startRedis } from '@tessera/testkit';
import { createTestApp, createTestRedisStore } from '@tessera/testkit/auth-service';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const PASSWORD = 'correct horse battery';
let redis: RedisServer;
beforeAll(async () => {
  redis = await startRedis();
});
afterAll(async () => {
  await redis?.stop();
});

const openStore = (prefix: string) => createTestRedisStore(redis.url, prefix);

/** Two auth instances on one Redis (and one users store each, holding the same user). */
async function twoInstances(env: Record<string, string>, modeEnv: Record<string, string> = {}) {
  const prefix = `p${Math.random().toString(36).slice(2, 8)}:`;
  const stores = [await openStore(prefix), await openStore(prefix)];
  const a = await createTestApp({ ...env, ...modeEnv }, { store: stores[0] as SessionStore });
  // instances share the key set (as they would share a data dir or TESSERA_KEYS)
  const b = await createTestApp(
    { ...env, ...modeEnv },
    { store: stores[1] as SessionStore, keys: a.app.tessera.keys },
  );
  const apps = [b, a];
  const id = await a.addUser('alice', PASSWORD);
  // the second instance gets the same user id through its own (memory) users store
  await b.app.tessera.users.store.create({
    ...((await a.app.tessera.users.findById(id)) as NonNullable<
      Awaited<ReturnType<typeof a.app.tessera.users.findById>>
    >),
  });
  return {
    a,
    b,
    async close() {
      for (const app of apps) await app.close();
      for (const store of stores) await store.close();
    },
  };
}

describe.each(['jwt', 'opaque'] as const)('several instances on one Redis (%s mode)', (mode) => {
  const modeEnv = { TESSERA_TOKEN_MODE: mode };

  it('the login rate limit holds across instances', async () => {
    const { a, b, close } = await twoInstances({ TESSERA_LOGIN_RATE_USER: '4' }, modeEnv);
    try {
      for (let i = 0; i < 2; i++) {
        expect((await a.login('alice', 'wrong password')).statusCode).toBe(401);
        expect((await b.login('alice', 'wrong password')).statusCode).toBe(401);
      }
      const limited = await b.login('alice', PASSWORD);
      expect(limited.statusCode).toBe(429);
      expect(limited.json().code).toBe('rate_limited');
      expect(limited.headers['retry-after']).toMatch(/^\d+$/);
    } finally {
      await close();
    }
  });

  it('a session made on one instance is seen and revoked through the other', async () => {
    const { a, b, close } = await twoInstances({}, modeEnv);
    try {
      const tokens = (await a.login('alice', PASSWORD)).json();
      const auth = { authorization: `Bearer ${tokens.accessToken}` };
      expect((await b.app.inject({ url: '/v1/session', headers: auth })).statusCode).toBe(200);
      expect((await b.app.inject({ method: 'POST', url: '/v1/logout', headers: auth })).statusCode).toBe(204);
      const after = await a.app.inject({ url: '/v1/session', headers: auth });
      expect(after.statusCode).toBe(401);
      expect(['session_revoked', 'invalid_token']).toContain(after.json().code);
    } finally {
      await close();
    }
  });

  it('409 session_exists (reject) across instances', async () => {
    const { a, b, close } = await twoInstances({ TESSERA_CONCURRENCY: 'reject' }, modeEnv);
    try {
      expect((await a.login('alice', PASSWORD)).statusCode).toBe(200);
      const refused = await b.login('alice', PASSWORD);
      expect(refused.statusCode).toBe(409);
      expect(refused.json().code).toBe('session_exists');
    } finally {
      await close();
    }
  });

  it.runIf(mode === 'jwt')(
    '409 access_token_active (strict) and refresh_token_reused across instances',
    async () => {
      const strict = await twoInstances({ TESSERA_REFRESH_POLICY: 'strict' }, modeEnv);
      try {
        const tokens = (await strict.a.login('alice', PASSWORD)).json();
        const res = await strict.b.app.inject({
          method: 'POST',
          url: '/v1/refresh',
          payload: { refreshToken: tokens.refreshToken },
        });
        expect(res.statusCode).toBe(409);
        expect(res.json().code).toBe('access_token_active');
      } finally {
        await strict.close();
      }
      const { a, b, close } = await twoInstances({ TESSERA_REFRESH_GRACE: '1ms' }, modeEnv);
      try {
        const tokens = (await a.login('alice', PASSWORD)).json();
        const first = await a.app.inject({
          method: 'POST',
          url: '/v1/refresh',
          payload: { refreshToken: tokens.refreshToken },
        });
        expect(first.statusCode).toBe(200);
        await new Promise((r) => setTimeout(r, 20));
        const reused = await b.app.inject({
          method: 'POST',
          url: '/v1/refresh',
          payload: { refreshToken: tokens.refreshToken },
        });
        expect(reused.statusCode).toBe(401);
        expect(reused.json().code).toBe('refresh_token_reused');
        const next = await a.app.inject({
          method: 'POST',
          url: '/v1/refresh',
          payload: { refreshToken: first.json().refreshToken },
        });
        expect(next.statusCode).toBe(401);
      } finally {
        await close();
      }
    },
  );
});
