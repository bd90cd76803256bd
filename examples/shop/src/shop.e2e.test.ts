import { type RedisServer, startRedis, startTcpProxy, type TcpProxy } from '@tessera/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
// Test-only: the guard's TCP proxy (cut/blackhole a client's Redis link). Candidate for @tessera/testkit.
import { runCli } from './testing/processes.ts';
import {
  ADMIN_TOKEN as ADMIN,
  type ServiceName,
  type ShopStack,
  startShopStack,
} from './testing/shop-stack.ts';

let redis: RedisServer;
let link: TcpProxy;
let shop: ShopStack;
let authUrl: string;
let serverEnv: Record<string, string>;
const latencies: number[] = [];

beforeAll(async () => {
  redis = await startRedis();
  link = await startTcpProxy(redis.port);
  // The example services reach Redis through the proxy, so a test can cut them off alone.
  shop = await startShopStack({ mode: 'jwt', redisUrl: redis.url, servicesRedisUrl: link.url });
  authUrl = shop.authUrl;
  serverEnv = shop.serverEnv;
}, 60_000);

afterAll(async () => {
  await shop?.stop();
  await link?.close();
  await redis?.stop();
  if (latencies.length > 0) {
    const sorted = [...latencies].sort((a, b) => a - b);
    console.log(
      `revocation → refused by both services: n=${sorted.length}, max ${sorted.at(-1)} ms, all ${sorted.join(', ')} ms`,
    );
  }
});

const login = (username: string) => shop.login(username);
const call = (service: ServiceName, path: string, token?: string) => shop.call(service, path, token);
const services = {
  get orders() {
    return shop.services.orders;
  },
  get profile() {
    return shop.services.profile;
  },
};

async function statuses(token: string, path = '/whoami'): Promise<[number, number]> {
  const [a, b] = await Promise.all([call('orders', path, token), call('profile', path, token)]);
  await Promise.all([a.arrayBuffer(), b.arrayBuffer()]);
  return [a.status, b.status];
}

/** After a revoke call answered: polls both services until both refuse; records how long it took. */
async function expectRefusedByBoth(token: string): Promise<void> {
  const started = performance.now();
  for (;;) {
    const [a, b] = await statuses(token);
    expect([a, b].every((s) => s === 200 || s === 401)).toBe(true);
    if (a === 401 && b === 401) break;
    if (performance.now() - started > 3000) throw new Error(`still accepted: ${a} ${b}`);
  }
  latencies.push(Math.round((performance.now() - started) * 10) / 10);
  const body = (await (await call('orders', '/whoami', token)).json()) as { code: string };
  expect(body.code).toBe('session_revoked');
}

describe('example services with a real auth service, Redis and processes (jwt mode)', () => {
  it('start quickly and log their URL', () => {
    for (const service of Object.values(services)) {
      expect(service.process?.output.join('\n')).toMatch(/listening on http:\/\/127\.0\.0\.1:\d+/);
      console.log(`spawn → "listening on" (node + tsx + guard.ready): ${service.process?.startupMs} ms`);
    }
  });

  it('GET /whoami and GET /admin on both services', async () => {
    const alice = await login('alice');
    const root = await login('root');
    for (const service of ['orders', 'profile'] as const) {
      const who = await call(service, '/whoami', alice.token);
      expect(who.status).toBe(200);
      expect(await who.json()).toEqual({
        userId: expect.any(String),
        sessionId: alice.sessionId,
        roles: ['user'],
      });
      const denied = await call(service, '/admin', alice.token);
      expect(denied.status).toBe(403);
      expect(denied.headers.get('content-type')).toMatch(/application\/problem\+json/);
      expect(((await denied.json()) as { code: string }).code).toBe('insufficient_role');
      expect((await call(service, '/admin', root.token)).status).toBe(200);
    }
  });

  it('answer 401 problem+json with WWW-Authenticate for missing or malformed credentials', async () => {
    const samples = ['', 'x'.repeat(10_000), '!!!.@@@.###', 'tss_alice.AAAA.bbbb', 'Bearer'];
    for (const service of ['orders', 'profile'] as const) {
      const none = await call(service, '/whoami');
      expect(none.status).toBe(401);
      expect(none.headers.get('www-authenticate')).toBe('Bearer error="invalid_token"');
      expect(((await none.json()) as { code: string }).code).toBe('invalid_token');
      for (const sample of samples) {
        const response = await fetch(`${services[service].url}/whoami`, {
          headers: { authorization: `Bearer ${sample}` },
        });
        expect(response.status).toBe(401);
        await response.arrayBuffer();
      }
      const huge = await fetch(`${services[service].url}/whoami`, {
        headers: { authorization: `Bearer ${'a'.repeat(1024 * 1024)}` },
      }).catch(() => null);
      expect(huge === null || huge.status === 431 || huge.status === 401).toBe(true);
    }
  });

  it('logout → both services refuse the session', async () => {
    const { token } = await login('alice');
    expect(await statuses(token)).toEqual([200, 200]);
    const out = await fetch(`${authUrl}/v1/logout`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}` },
    });
    expect(out.status).toBe(204);
    await expectRefusedByBoth(token);
  });

  it('DELETE /v1/sessions/{id} → both services refuse that session', async () => {
    const victim = await login('alice');
    const other = await login('alice');
    expect(await statuses(victim.token)).toEqual([200, 200]);
    const response = await fetch(`${authUrl}/v1/sessions/${encodeURIComponent(victim.sessionId)}`, {
      method: 'DELETE',
      headers: { authorization: `Bearer ${other.token}` },
    });
    expect(response.status).toBe(204);
    await expectRefusedByBoth(victim.token);
    expect(await statuses(other.token)).toEqual([200, 200]);
  });

  it('admin revoke-all → both services refuse every session of the user', async () => {
    const a = await login('alice');
    const b = await login('alice');
    expect(await statuses(a.token)).toEqual([200, 200]);
    const response = await fetch(`${authUrl}/v1/admin/users/alice/sessions`, {
      method: 'DELETE',
      headers: { authorization: `Bearer ${ADMIN}` },
    });
    expect(response.status).toBe(204);
    await expectRefusedByBoth(a.token);
    await expectRefusedByBoth(b.token);
  });

  it('`tessera sessions revoke <id>` → both services refuse it', async () => {
    const { token, sessionId } = await login('alice');
    expect(await statuses(token)).toEqual([200, 200]);
    const cli = await runCli(['sessions', 'revoke', sessionId], serverEnv);
    expect(cli.code).toBe(0);
    await expectRefusedByBoth(token);
  });

  it('revoked while the guards were cut off from Redis: never accepted, refused after reconnecting', async () => {
    const { token, sessionId } = await login('alice');
    expect(await statuses(token)).toEqual([200, 200]);
    link.cut();
    const cli = await runCli(['sessions', 'revoke', sessionId], serverEnv);
    expect(cli.code).toBe(0);
    for (let i = 0; i < 10; i++) {
      const [a, b] = await statuses(token);
      expect(a === 200 || b === 200).toBe(false);
    }
    const during = await call('orders', '/whoami', token);
    expect(during.status).toBe(503);
    expect(during.headers.get('retry-after')).toMatch(/^\d+$/);
    expect(((await during.json()) as { code: string }).code).toBe('store_unavailable');
    link.restore();
    const deadline = Date.now() + 10_000;
    let last: [number, number] = [0, 0];
    while (Date.now() < deadline) {
      last = await statuses(token);
      expect(last.includes(200)).toBe(false);
      if (last[0] === 401 && last[1] === 401) break;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(last).toEqual([401, 401]);
  });

  it('revoked and trimmed from the stream while cut off: still refused after reconnecting', async () => {
    const victim = await login('alice');
    const bystander = await login('root');
    expect(await statuses(victim.token)).toEqual([200, 200]);
    expect(await statuses(bystander.token)).toEqual([200, 200]);
    link.cut();
    expect((await runCli(['sessions', 'revoke', victim.sessionId], serverEnv)).code).toBe(0);
    await redis.command('XTRIM', 'tessera:revocations', 'MAXLEN', '0');
    link.restore();
    const deadline = Date.now() + 10_000;
    while (Date.now() < deadline) {
      const [a, b] = await statuses(bystander.token);
      if (a === 200 && b === 200) break;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(await statuses(bystander.token)).toEqual([200, 200]);
    expect(await statuses(victim.token)).toEqual([401, 401]);
  });

  it('key rotation while services run: old tokens still accepted, tokens of the new key at once', async () => {
    const before = await login('alice');
    const kidOf = (token: string) =>
      (JSON.parse(Buffer.from(token.split('.')[0] ?? '', 'base64url').toString()) as { kid: string }).kid;
    const cli = await runCli(['keys', 'rotate'], serverEnv);
    expect(cli.code).toBe(0);
    let after = await login('alice');
    const deadline = Date.now() + 5000;
    while (kidOf(after.token) === kidOf(before.token) && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      after = await login('alice');
    }
    expect(kidOf(after.token)).not.toBe(kidOf(before.token));
    expect(await statuses(after.token)).toEqual([200, 200]);
    expect(await statuses(before.token)).toEqual([200, 200]);
  });

  it('Redis down → 503 store_unavailable (fail closed)', async () => {
    const { token } = await login('alice');
    expect(await statuses(token)).toEqual([200, 200]);
    await redis.stop();
    for (const service of ['orders', 'profile'] as const) {
      const deadline = Date.now() + 5000;
      let response = await call(service, '/whoami', token);
      while (response.status === 200 && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 50));
        response = await call(service, '/whoami', token);
      }
      expect(response.status).toBe(503);
      expect(response.headers.get('retry-after')).toMatch(/^\d+$/);
      expect(((await response.json()) as { code: string }).code).toBe('store_unavailable');
    }
  });
});
