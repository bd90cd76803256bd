import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type RedisServer, startRedis } from '@tessera/testkit';
import { exportJWK, generateKeyPair, type JWK, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ShopStack, startShopStack } from './testing/shop-stack.ts';

/**
 * An upstream identity provider's transmitter pushes a CAEP session-revoked for alice to
 * Tessera's SSF receiver: Tessera revokes every session of hers through the normal path, so
 * both example services (real processes with guards on the revocation feed) refuse her tokens.
 */
const IDP = 'https://idp.example.com';
const SESSION_REVOKED = 'https://schemas.openid.net/secevent/caep/event-type/session-revoked';

let redis: RedisServer;
let jwksServer: Server;
let shop: ShopStack;
let sign: (claims: Record<string, unknown>) => Promise<string>;

beforeAll(async () => {
  redis = await startRedis();
  const { publicKey, privateKey } = await generateKeyPair('EdDSA');
  const jwk: JWK = { ...(await exportJWK(publicKey)), kid: 'idp-key', alg: 'EdDSA', use: 'sig' };
  jwksServer = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: [jwk] }));
  });
  await new Promise<void>((resolve) => jwksServer.listen(0, '127.0.0.1', () => resolve()));
  const jwksUri = `http://127.0.0.1:${(jwksServer.address() as AddressInfo).port}/jwks`;
  sign = (claims) =>
    new SignJWT(claims)
      .setProtectedHeader({ alg: 'EdDSA', kid: 'idp-key', typ: 'secevent+jwt' })
      .sign(privateKey);
  shop = await startShopStack({
    mode: 'jwt',
    redisUrl: redis.url,
    authEnv: { TESSERA_SSF_TRUSTED_ISSUERS: `${IDP}=${jwksUri}` },
  });
}, 60_000);

afterAll(async () => {
  await shop?.stop();
  await new Promise((resolve) => jwksServer?.close(resolve));
  await redis?.stop();
});

async function statuses(token: string): Promise<number[]> {
  return Promise.all(
    (['orders', 'profile'] as const).map(async (service) => {
      const res = await shop.call(service, '/whoami', token);
      await res.arrayBuffer();
      return res.status;
    }),
  );
}

describe('SSF receiver with the example services', () => {
  it("a trusted issuer's session-revoked for alice ends her sessions; both services refuse her tokens", async () => {
    const phone = await shop.login('alice');
    const laptop = await shop.login('alice');
    const root = await shop.login('root');
    for (const s of [phone, laptop, root]) expect(await statuses(s.token)).toEqual([200, 200]);

    const now = Math.floor(Date.now() / 1000);
    const set = await sign({
      iss: IDP,
      aud: shop.authUrl,
      iat: now,
      jti: 'idp-event-1',
      sub_id: { format: 'email', email: 'alice' },
      events: { [SESSION_REVOKED]: { event_timestamp: now } },
    });
    const pushed = await fetch(`${shop.authUrl}/v1/ssf/receiver`, {
      method: 'POST',
      headers: { 'content-type': 'application/secevent+jwt' },
      body: set,
    });
    expect(pushed.status).toBe(202);
    const started = Date.now();
    for (const s of [phone, laptop]) {
      for (;;) {
        const got = await statuses(s.token);
        if (got.every((code) => code === 401)) break;
        expect(Date.now() - started).toBeLessThan(2000);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    }
    console.log(`SET accepted → both services refuse alice: ${Date.now() - started} ms`);
    expect(await statuses(root.token)).toEqual([200, 200]);

    const replay = await fetch(`${shop.authUrl}/v1/ssf/receiver`, {
      method: 'POST',
      headers: { 'content-type': 'application/secevent+jwt' },
      body: set,
    });
    expect(replay.status).toBe(400);
    expect(await replay.json()).toMatchObject({ err: 'invalid_request' });
  });
});
