import { connect } from 'node:net';
import { type RedisServer, startRedis } from '@tessera/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rawRequest } from './support/raw-http.ts';
import { findLeaks, recordSecret } from './support/secrets.ts';
import { PASSWORDS, type Stack, startStack } from './support/stack.ts';

/** Abuse: user enumeration, slow clients, oversized input, cookie attributes, secrets in logs. */
let redis: RedisServer;
let stack: Stack;
/** A second auth instance with the production cookie default (Secure). */
let secureCookies: string;

beforeAll(async () => {
  redis = await startRedis();
  stack = await startStack({
    redisUrl: redis.url,
    env: { LOG_LEVEL: 'debug', TESSERA_HEADERS_TIMEOUT: '2s', TESSERA_REQUEST_TIMEOUT: '3s' },
  });
  secureCookies = await stack.startAuthInstance({ TESSERA_COOKIE_SECURE: 'true' });
}, 90_000);

afterAll(async () => {
  await stack?.stop();
  await redis?.stop();
  const lines = stack?.processes.flatMap((p) => p.output) ?? [];
  console.log(`log scan: ${lines.length} log lines of ${stack?.processes.length} processes`);
  expect(findLeaks(lines)).toEqual([]);
});

const loginRequest = (
  base: string,
  username: string,
  password: string,
  headers: Record<string, string> = {},
) =>
  fetch(`${base}/v1/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ username, password }),
  });

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] as number;
};

describe('user enumeration', () => {
  it('an unknown user and a wrong password get the same status and body', async () => {
    const wrong = 'wrong-password-for-alice-123';
    recordSecret(wrong);
    const unknown = await loginRequest(stack.authUrl, 'nobody-at-all', wrong);
    const bad = await loginRequest(stack.authUrl, 'alice', wrong);
    expect(unknown.status).toBe(401);
    expect(bad.status).toBe(401);
    expect(await unknown.json()).toEqual(await bad.json());
    expect(unknown.headers.get('set-cookie')).toBeNull();
    expect(bad.headers.get('set-cookie')).toBeNull();
  });

  it('median latency of an unknown user is within 20% of a wrong password (dummy hash)', async () => {
    const samples = { unknown: [] as number[], wrong: [] as number[] };
    const once = async (kind: 'unknown' | 'wrong') => {
      const started = performance.now();
      const response = await loginRequest(
        stack.authUrl,
        kind === 'unknown' ? 'nobody-at-all' : 'alice',
        'not-the-password-42',
      );
      await response.arrayBuffer();
      samples[kind].push(performance.now() - started);
      expect(response.status).toBe(401);
    };
    for (let i = 0; i < 4; i += 1) await once(i % 2 ? 'unknown' : 'wrong'); // warm-up, not counted
    samples.unknown.length = 0;
    samples.wrong.length = 0;
    for (let i = 0; i < 30; i += 1) {
      // interleaved, order alternating, so load on the machine hits both alike
      if (i % 2) {
        await once('unknown');
        await once('wrong');
      } else {
        await once('wrong');
        await once('unknown');
      }
    }
    const ratio = median(samples.unknown) / median(samples.wrong);
    console.log(
      `enumeration timing: median unknown ${median(samples.unknown).toFixed(1)} ms, wrong password ${median(samples.wrong).toFixed(1)} ms, ratio ${ratio.toFixed(3)} (n=30 each)`,
    );
    expect(Math.abs(ratio - 1)).toBeLessThanOrEqual(0.2);
  }, 60_000);
});

/** Opens a socket, writes `head`, then one byte of `drip` a second; resolves when the server closes. */
function slowClient(
  port: number,
  head: string,
  drip: string,
): Promise<{ closedAfterMs: number; answer: string }> {
  return new Promise((resolve) => {
    const started = performance.now();
    const socket = connect(port, '127.0.0.1');
    let answer = '';
    let sent = 0;
    const timer = setInterval(() => {
      if (sent < drip.length && !socket.destroyed) socket.write(drip[sent++] as string);
    }, 1000);
    socket.on('data', (chunk) => {
      answer += String(chunk);
    });
    socket.on('error', () => {});
    socket.on('close', () => {
      clearInterval(timer);
      resolve({ closedAfterMs: performance.now() - started, answer });
    });
    socket.write(head);
  });
}

describe('slow clients', () => {
  it('a client sending its headers one byte a second is cut off by the headers timeout; others are served meanwhile', async () => {
    const port = Number(new URL(stack.authUrl).port);
    const slowHeaders = slowClient(port, 'GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ', 'a'.repeat(60));
    const slowBody = slowClient(
      port,
      'POST /v1/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 200\r\n\r\n{',
      '"'.repeat(60),
    );
    const meanwhile = await fetch(`${stack.authUrl}/healthz`);
    expect(meanwhile.status).toBe(200);
    const [headers, body] = await Promise.all([slowHeaders, slowBody]);
    console.log(
      `slow clients: headers cut after ${Math.round(headers.closedAfterMs)} ms (timeout 2 s), body after ${Math.round(body.closedAfterMs)} ms (timeout 3 s)`,
    );
    expect(headers.closedAfterMs).toBeLessThan(8000);
    expect(body.closedAfterMs).toBeLessThan(9000);
    expect(headers.answer).toMatch(/^HTTP\/1\.1 408|^$/);
    expect(body.answer).toMatch(/^HTTP\/1\.1 408|^$/);
  }, 30_000);
});

describe('oversized input', () => {
  it('a 100 KB header or a 20 KB cookie is refused with 431 by the auth service and both guards', async () => {
    const urls = [stack.authUrl, stack.services.orders as string, stack.services.profile as string];
    for (const url of urls) {
      for (const header of [
        ['x-big', 'a'.repeat(100 * 1024)],
        ['cookie', `tessera_access=${'b'.repeat(20 * 1024)}`],
      ] as [string, string][]) {
        const answer = await rawRequest(url, { path: '/whoami', headers: [header] });
        expect(answer.status, `${url} ${header[0]}`).toBe(431);
      }
    }
  });

  it('a body over the limit is refused with 413 problem+json, before it is parsed', async () => {
    const big = JSON.stringify({ username: 'alice', password: 'x'.repeat(2 * 1024 * 1024) });
    const answer = await rawRequest(stack.authUrl, {
      method: 'POST',
      path: '/v1/login',
      headers: [['content-type', 'application/json']],
      body: big,
    });
    expect(answer.status).toBe(413);
    expect(answer.headers['content-type']).toMatch(/^application\/problem\+json/);
    const deep = '['.repeat(16 * 1024);
    const nested = await rawRequest(stack.authUrl, {
      method: 'POST',
      path: '/v1/login',
      headers: [['content-type', 'application/json']],
      body: deep,
    });
    expect([400, 413]).toContain(nested.status);
  });
});

describe('cookies', () => {
  const cookiesOf = (response: Response) =>
    Object.fromEntries(
      response.headers.getSetCookie().map((line) => {
        const [pair = '', ...attributes] = line.split(';').map((s) => s.trim());
        const name = pair.slice(0, pair.indexOf('='));
        recordSecret(pair.slice(pair.indexOf('=') + 1));
        return [name, attributes.map((a) => a.toLowerCase())];
      }),
    );

  it('cookie transfer: HttpOnly, SameSite=Lax, Secure by default, host-only, refresh cookie only on /v1/refresh', async () => {
    const response = await loginRequest(secureCookies, 'alice', PASSWORDS.alice as string, {
      'x-tessera-transfer': 'cookie',
    });
    expect(response.status).toBe(200);
    const text = await response.text();
    const cookies = cookiesOf(response);
    expect(Object.keys(cookies).sort()).toEqual(['tessera_access', 'tessera_refresh']);
    for (const attributes of Object.values(cookies)) {
      expect(attributes).toContain('httponly');
      expect(attributes).toContain('secure');
      expect(attributes).toContain('samesite=lax');
      expect(attributes.some((a) => a.startsWith('domain='))).toBe(false);
    }
    expect(cookies.tessera_access).toContain('path=/');
    expect(cookies.tessera_refresh).toContain('path=/v1/refresh');
    expect(text).not.toMatch(/"(accessToken|refreshToken)"/);
  });

  it('a cookie-authenticated unsafe request needs a same origin or X-Tessera-CSRF', async () => {
    const response = await loginRequest(stack.authUrl, 'alice', PASSWORDS.alice as string, {
      'x-tessera-transfer': 'cookie',
    });
    const access = response.headers
      .getSetCookie()
      .find((line) => line.startsWith('tessera_access='))
      ?.split(';')[0] as string;
    recordSecret(access.slice('tessera_access='.length));
    const logout = (headers: Record<string, string>) =>
      fetch(`${stack.authUrl}/v1/logout`, { method: 'POST', headers: { cookie: access, ...headers } });
    const noOrigin = await logout({});
    expect(noOrigin.status).toBe(403);
    expect(((await noOrigin.json()) as { code: string }).code).toBe('csrf');
    expect((await logout({ origin: 'https://evil.example' })).status).toBe(403);
    expect((await logout({ origin: 'null' })).status).toBe(403);
    const out = await logout({ 'x-tessera-csrf': '1' });
    expect(out.status).toBe(204);
    const cleared = out.headers.getSetCookie();
    expect(
      cleared.some(
        (line) => /^tessera_access=;/.test(line) && /expires=thu, 01 jan 1970|max-age=0/i.test(line),
      ),
    ).toBe(true);
  });
});
