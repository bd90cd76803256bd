import { type RedisServer, startRedis } from '@tessera/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './testing/processes.ts';
import { ADMIN_TOKEN, type ShopStack, startShopStack } from './testing/shop-stack.ts';

let redis: RedisServer;
let shop: ShopStack;

beforeAll(async () => {
  redis = await startRedis();
  shop = await startShopStack({ mode: 'opaque', redisUrl: redis.url });
}, 60_000);

afterAll(async () => {
  await shop?.stop();
  await redis?.stop();
});

async function statuses(token: string, path = '/whoami'): Promise<[number, number]> {
  const [a, b] = await Promise.all([shop.call('orders', path, token), shop.call('profile', path, token)]);
  await Promise.all([a.arrayBuffer(), b.arrayBuffer()]);
  return [a.status, b.status];
}

/** The guards reuse session lookups and learn of revocations from the feed: poll briefly. */
async function refusedByBoth(token: string): Promise<[number, number]> {
  const deadline = Date.now() + 3000;
  let last = await statuses(token);
  while ((last[0] !== 401 || last[1] !== 401) && Date.now() < deadline) {
    expect(last.every((s) => s === 200 || s === 401)).toBe(true);
    last = await statuses(token);
  }
  return last;
}

describe('example services in opaque mode (real processes)', () => {
  it('GET /whoami and GET /admin with a session token', async () => {
    const alice = await shop.login('alice');
    expect(alice.token).toMatch(/^tss_/);
    const who = await shop.call('profile', '/whoami', alice.token);
    expect(await who.json()).toEqual({
      userId: expect.any(String),
      sessionId: alice.sessionId,
      roles: ['user'],
    });
    expect(await statuses(alice.token, '/admin')).toEqual([403, 403]);
    const root = await shop.login('root');
    expect(await statuses(root.token, '/admin')).toEqual([200, 200]);
  });

  it('every kind of revocation is refused by both services within milliseconds', async () => {
    const logout = await shop.login('alice');
    expect(await statuses(logout.token)).toEqual([200, 200]);
    const out = await fetch(`${shop.authUrl}/v1/logout`, {
      method: 'POST',
      headers: { authorization: `Bearer ${logout.token}` },
    });
    expect(out.status).toBe(204);
    expect(await refusedByBoth(logout.token)).toEqual([401, 401]);

    const cli = await shop.login('alice');
    expect(await statuses(cli.token)).toEqual([200, 200]);
    expect((await runCli(['sessions', 'revoke', cli.sessionId], shop.authEnv)).code).toBe(0);
    expect(await refusedByBoth(cli.token)).toEqual([401, 401]);

    const all = await shop.login('alice');
    expect(await statuses(all.token)).toEqual([200, 200]);
    const revokeAll = await fetch(`${shop.authUrl}/v1/admin/users/alice/sessions`, {
      method: 'DELETE',
      headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
    });
    expect(revokeAll.status).toBe(204);
    expect(await refusedByBoth(all.token)).toEqual([401, 401]);
  });

  it('Redis down → 503 store_unavailable', async () => {
    const { token } = await shop.login('alice');
    expect(await statuses(token)).toEqual([200, 200]);
    await redis.stop();
    const deadline = Date.now() + 3000;
    let last = await statuses(token);
    while ((last[0] !== 503 || last[1] !== 503) && Date.now() < deadline) last = await statuses(token);
    expect(last).toEqual([503, 503]);
  });
});
