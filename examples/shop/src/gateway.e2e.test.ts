import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type RedisServer, startRedis } from '@tessera/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, ROOT } from './testing/processes.ts';
import { type ShopStack, startShopStack } from './testing/shop-stack.ts';

const NGINX = ['/usr/sbin/nginx', '/usr/bin/nginx'].find((path) => {
  try {
    execFileSync(path, ['-v'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
});
if (!NGINX)
  console.warn('gateway.e2e: nginx is not installed (apt-get install nginx); skipping the gateway test');

/** A service behind the gateway that trusts the headers nginx sets after auth_request. */
function startUpstream(): Promise<{ server: Server; port: number }> {
  return new Promise((resolve) => {
    const server = createServer((req, res) => {
      const identity = {
        userId: req.headers['x-user-id'],
        roles: req.headers['x-user-roles'],
        sessionId: req.headers['x-session-id'],
      };
      if (req.method === 'POST' && req.url === '/orders') {
        let body = '';
        req.on('data', (chunk) => {
          body += String(chunk);
        });
        req.on('end', () => {
          const { item } = JSON.parse(body || '{}') as { item?: string };
          res.writeHead(201, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ orderId: 'o-1', userId: identity.userId, item }));
        });
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(identity));
    });
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      resolve({ server, port: typeof address === 'object' && address ? address.port : 0 });
    });
  });
}

async function waitForPort(url: string): Promise<void> {
  for (let i = 0; i < 100; i++) {
    try {
      await fetch(url);
      return;
    } catch {
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  throw new Error('nginx did not start');
}

describe.skipIf(!NGINX)('nginx auth_request gateway in front of a service (GET /v1/authorize)', () => {
  let redis: RedisServer;
  let stack: ShopStack;
  let upstream: { server: Server; port: number };
  let nginx: ChildProcess;
  let prefix: string;
  let gateway: string;

  beforeAll(async () => {
    redis = await startRedis();
    const port = await freePort();
    gateway = `http://127.0.0.1:${port}`;
    stack = await startShopStack({
      mode: 'jwt',
      redisUrl: redis.url,
      authEnv: { TESSERA_ALLOWED_ORIGINS: gateway },
    });
    upstream = await startUpstream();
    prefix = mkdtempSync(join(tmpdir(), 'tessera-nginx-'));
    mkdirSync(join(prefix, 'tmp'));
    const template = readFileSync(join(ROOT, 'examples/shop/gateway/nginx.conf.template'), 'utf8');
    writeFileSync(
      join(prefix, 'nginx.conf'),
      template
        .replaceAll('__LISTEN__', String(port))
        .replaceAll('__AUTH__', new URL(stack.authUrl).host)
        .replaceAll('__UPSTREAM__', `127.0.0.1:${upstream.port}`),
    );
    nginx = spawn(
      NGINX as string,
      ['-p', prefix, '-c', 'nginx.conf', '-g', `daemon off; pid ${join(prefix, 'nginx.pid')};`],
      {
        stdio: ['ignore', 'ignore', 'inherit'],
      },
    );
    await waitForPort(gateway);
  }, 60_000);

  afterAll(async () => {
    if (nginx && nginx.exitCode === null) {
      const exited = new Promise((r) => nginx.once('exit', r));
      nginx.kill('SIGQUIT');
      await exited;
    }
    upstream?.server.close();
    await stack?.stop();
    await redis?.stop();
    if (prefix) rmSync(prefix, { recursive: true, force: true });
  });

  it('refuses a request without credentials', async () => {
    expect((await fetch(`${gateway}/orders`)).status).toBe(401);
  });

  it('passes the user, roles and session to the service, and refuses the session after logout', async () => {
    const { token, sessionId } = await stack.login('root');
    const response = await fetch(`${gateway}/orders`, { headers: { authorization: `Bearer ${token}` } });
    expect(response.status).toBe(200);
    const body = (await response.json()) as { userId: string; roles: string; sessionId: string };
    expect(body.sessionId).toBe(sessionId);
    expect(body.roles).toBe('user,admin');
    expect(body.userId).toMatch(/^[A-Za-z0-9_-]+$/);

    const logout = await fetch(`${stack.authUrl}/v1/logout`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}` },
    });
    expect(logout.status).toBe(204);
    expect((await fetch(`${gateway}/orders`, { headers: { authorization: `Bearer ${token}` } })).status).toBe(
      401,
    );
  });

  it('reads the access cookie when the browser logged in with cookie transfer', async () => {
    const login = await fetch(`${stack.authUrl}/v1/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-tessera-transfer': 'cookie' },
      body: JSON.stringify({ username: 'alice', password: 'alice-password-123' }),
    });
    expect(login.status).toBe(200);
    const cookies = login.headers
      .getSetCookie()
      .map((c) => c.split(';')[0])
      .join('; ');
    expect(cookies).toContain('tessera_access=');
    const response = await fetch(`${gateway}/profile`, { headers: { cookie: cookies } });
    expect(response.status).toBe(200);
    expect(((await response.json()) as { roles: string }).roles).toBe('user');
  });

  async function cookieLogin(): Promise<string> {
    const login = await fetch(`${stack.authUrl}/v1/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-tessera-transfer': 'cookie' },
      body: JSON.stringify({ username: 'alice', password: 'alice-password-123' }),
    });
    expect(login.status).toBe(200);
    return login.headers
      .getSetCookie()
      .map((c) => c.split(';')[0])
      .join('; ');
  }

  const postOrder = (headers: Record<string, string>) =>
    fetch(`${gateway}/orders`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify({ item: 'teapot' }),
    });

  it('applies the CSRF rule to the forwarded method: cookie POSTs need the gateway origin or X-Tessera-CSRF', async () => {
    const cookie = await cookieLogin();
    const foreign = await postOrder({ cookie, origin: 'https://evil.example' });
    expect(foreign.status).toBe(403);
    expect(foreign.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(await foreign.json()).toMatchObject({ status: 403, code: 'csrf' });
    const bare = await postOrder({ cookie });
    expect(bare.status).toBe(403);
    expect(await bare.json()).toMatchObject({ code: 'csrf' });
    // A client-sent X-Forwarded-Method cannot make the POST look like a GET.
    const disguised = await postOrder({
      cookie,
      origin: 'https://evil.example',
      'x-forwarded-method': 'GET',
    });
    expect(disguised.status).toBe(403);
    const allowed = await postOrder({ cookie, origin: gateway });
    expect(allowed.status).toBe(201);
    expect(await allowed.json()).toMatchObject({ orderId: expect.any(String), item: 'teapot' });
    expect((await postOrder({ cookie, 'x-tessera-csrf': '1' })).status).toBe(201);
    // GET with a cookie is not subject to the rule.
    expect(
      (await fetch(`${gateway}/orders`, { headers: { cookie, origin: 'https://evil.example' } })).status,
    ).toBe(200);
  });

  it('bearer requests are not subject to the CSRF rule', async () => {
    const { token } = await stack.login('alice');
    const response = await postOrder({ authorization: `Bearer ${token}`, origin: 'https://evil.example' });
    expect(response.status).toBe(201);
  });

  it('overwrites client-sent X-User-Id / X-User-Roles / X-Session-Id', async () => {
    const { token, sessionId } = await stack.login('alice');
    const response = await fetch(`${gateway}/orders`, {
      headers: {
        authorization: `Bearer ${token}`,
        'x-user-id': 'root',
        'x-user-roles': 'admin',
        'x-session-id': 'forged',
      },
    });
    expect(response.status).toBe(200);
    const body = (await response.json()) as { userId: string; roles: string; sessionId: string };
    expect(body).toMatchObject({ roles: 'user', sessionId });
    expect(body.userId).not.toBe('root');
    const refused = await fetch(`${gateway}/orders`, { headers: { 'x-user-id': 'root' } });
    expect(refused.status).toBe(401);
    expect(await refused.json()).toMatchObject({ status: 401, code: 'invalid_token' });
  });
});
