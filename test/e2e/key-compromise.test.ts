import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type RedisServer, startRedis } from '@tessera/testkit';
import { decodeProtectedHeader, importJWK, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../examples/shop/src/testing/processes.ts';
import { type ShopStack, startShopStack } from '../../examples/shop/src/testing/shop-stack.ts';

// Real processes: Redis, the auth service, orders (Express) and profile (Fastify), the CLI.
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

interface StoredKey {
  kid: string;
  alg: string;
  [member: string]: unknown;
}

function keyFile(): StoredKey[] {
  const path = join(shop.authEnv.TESSERA_DATA_DIR as string, 'keys.json');
  return (JSON.parse(readFileSync(path, 'utf8')) as { keys: StoredKey[] }).keys;
}

/** What every party says of a token: orders, profile, the auth service's /v1/session and /v1/authorize. */
async function verdicts(token: string): Promise<number[]> {
  const headers = { authorization: `Bearer ${token}` };
  const answers = await Promise.all([
    shop.call('orders', '/whoami', token),
    shop.call('profile', '/whoami', token),
    fetch(`${shop.authUrl}/v1/session`, { headers }),
    fetch(`${shop.authUrl}/v1/authorize`, { headers }),
  ]);
  await Promise.all(answers.map((a) => a.arrayBuffer()));
  return answers.map((a) => a.status);
}

async function keysList(): Promise<string[][]> {
  const listed = await runCli(['keys', 'list'], shop.authEnv);
  expect(listed.code).toBe(0);
  return listed.stdout
    .trim()
    .split('\n')
    .map((line) => line.split('\t'));
}

describe('key compromise: token lifetime bound and tessera keys revoke (real processes)', () => {
  it('a token forged with a key of the key set and exp in 2100 is refused everywhere', async () => {
    const alice = await shop.login('alice');
    expect(await verdicts(alice.token)).toEqual([200, 200, 200, 200]);
    const { kid } = decodeProtectedHeader(alice.token);
    const stolen = keyFile().find((k) => k.kid === kid) as StoredKey;
    const { tessera: _times, ...jwk } = stolen;
    const privateKey = await importJWK(jwk, stolen.alg);
    const claims = JSON.parse(Buffer.from(alice.token.split('.')[1] as string, 'base64url').toString()) as {
      sid: string;
      roles: string[];
      sub: string;
      iss: string;
      aud: string;
    };
    const now = Math.floor(Date.now() / 1000);
    const forged = await new SignJWT({ sid: claims.sid, roles: claims.roles })
      .setProtectedHeader({ alg: stolen.alg, kid: stolen.kid, typ: 'at+jwt' })
      .setIssuer(claims.iss)
      .setSubject(claims.sub)
      .setAudience(claims.aud)
      .setIssuedAt(now)
      .setExpirationTime(Date.UTC(2100, 0, 1) / 1000)
      .setJti(crypto.randomUUID())
      .sign(privateKey);
    expect(await verdicts(forged)).toEqual([401, 401, 401, 401]);
    // Within the lifetime (the default TESSERA_ACCESS_TTL, 10 min, learnt from the metadata) it passes.
    const genuine = await new SignJWT({ sid: claims.sid, roles: claims.roles })
      .setProtectedHeader({ alg: stolen.alg, kid: stolen.kid, typ: 'at+jwt' })
      .setIssuer(claims.iss)
      .setSubject(claims.sub)
      .setAudience(claims.aud)
      .setIssuedAt(now)
      .setExpirationTime(now + 600)
      .setJti(crypto.randomUUID())
      .sign(privateKey);
    expect(await verdicts(genuine)).toEqual([200, 200, 200, 200]);
  });

  it('tessera keys revoke: the key leaves the JWKS, every party refuses its tokens (cached ones too) within 2 s, tokens of the new key pass', async () => {
    const alice = await shop.login('alice');
    // Every party has verified (and the guards cached) the token.
    expect(await verdicts(alice.token)).toEqual([200, 200, 200, 200]);
    const { kid } = decodeProtectedHeader(alice.token);
    const before = await keysList();
    expect(before.find((line) => line[0] === kid)?.[2]).toBe('current');

    const revoked = await runCli(['keys', 'revoke', kid as string], shop.authEnv);
    expect(revoked.stderr).toBe('');
    expect(revoked.code).toBe(0);
    const started = performance.now();
    let last: number[] = [];
    for (;;) {
      last = await verdicts(alice.token);
      if (last.every((s) => s === 401)) break;
      if (performance.now() - started > 2000) throw new Error(`still accepted after 2 s: ${last.join(' ')}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const elapsed = Math.round(performance.now() - started);
    console.log(`keys revoke → refused by orders, profile, /v1/session and /v1/authorize: ${elapsed} ms`);

    const after = await keysList();
    expect(after.find((line) => line[0] === kid)?.[2]).toBe('revoked');
    const current = after.filter((line) => line[2] === 'current');
    expect(current).toHaveLength(1);
    expect(current[0]?.[0]).not.toBe(kid);
    const jwks = (await (await fetch(`${shop.authUrl}/.well-known/jwks.json`)).json()) as {
      keys: Array<{ kid: string }>;
    };
    expect(jwks.keys.map((k) => k.kid)).not.toContain(kid);

    const again = await shop.login('alice');
    expect(decodeProtectedHeader(again.token).kid).toBe(current[0]?.[0]);
    expect(await verdicts(again.token)).toEqual([200, 200, 200, 200]);
    // An unknown kid is a usage error of a runtime kind: exit 1, one line.
    const unknown = await runCli(['keys', 'revoke', 'no-such-kid'], shop.authEnv);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr.trim().split('\n')).toHaveLength(1);
  });
});
