import { type RedisServer, startRedis } from '@tessera/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ShopStack, startShopStack } from './testing/shop-stack.ts';

// Contract §7: POST /orders on the orders example (a real process behind the Express adapter).
let redis: RedisServer;
let shop: ShopStack;

beforeAll(async () => {
  redis = await startRedis();
  shop = await startShopStack({ mode: 'jwt', redisUrl: redis.url });
}, 60_000);

afterAll(async () => {
  await shop?.stop();
  await redis?.stop();
});

const order = (headers: Record<string, string>, body = JSON.stringify({ item: 'teapot' })) =>
  fetch(`${shop.services.orders.url}/orders`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body,
  });

describe('orders: POST /orders { item }', () => {
  it('201 { orderId, userId, item } for a valid session; 401 without; 400 for a bad body', async () => {
    const { token } = await shop.login('alice');
    const created = await order({ authorization: `Bearer ${token}` });
    expect(created.status).toBe(201);
    const body = (await created.json()) as { orderId: string; userId: string; item: string };
    expect(body).toEqual({ orderId: expect.any(String), userId: expect.any(String), item: 'teapot' });
    const who = (await (await shop.call('orders', '/whoami', token)).json()) as { userId: string };
    expect(body.userId).toBe(who.userId);
    expect((await order({})).status).toBe(401);
    const bad = await order({ authorization: `Bearer ${token}` }, '{"item": 1');
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({ code: 'invalid_request' });
  });

  it('403 csrf for a cookie-authenticated request that fails the CSRF rule', async () => {
    const login = await fetch(`${shop.authUrl}/v1/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-tessera-transfer': 'cookie' },
      body: JSON.stringify({ username: 'alice', password: 'alice-password-123' }),
    });
    const cookie = login.headers
      .getSetCookie()
      .map((c) => c.split(';')[0])
      .join('; ');
    const foreign = await order({ cookie, origin: 'https://evil.example' });
    expect(foreign.status).toBe(403);
    expect(await foreign.json()).toMatchObject({ code: 'csrf' });
    expect((await order({ cookie })).status).toBe(403);
    // The issuer's origin (the default allowed origin) and the anti-CSRF header pass.
    expect((await order({ cookie, origin: new URL(shop.authUrl).origin })).status).toBe(201);
    expect((await order({ cookie, 'x-tessera-csrf': '1' })).status).toBe(201);
  });
});
