import { ADMIN_TOKEN, createTestApp, type TestApp } from '@tessera/testkit/auth-service';
import type { LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeUserAgent, timeAgo } from './describe-session.ts';
import { safeReturnTo } from './return-to.ts';

const CHROME_LINUX =
  'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36';
const SAFARI_IPHONE =
  'Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1';

function cookieHeader(res: LightMyRequestResponse): string {
  return res.cookies.map((c) => `${c.name}=${c.value}`).join('; ');
}

function returnToOf(body: string): string | undefined {
  return /data-return-to="([^"]*)"/.exec(body)?.[1]?.replaceAll('&amp;', '&');
}

describe('return_to (an open redirect is a defect)', () => {
  const issuer = 'http://auth.test';
  const allowed = ['https://shop.example'];
  it.each([
    ['/orders?id=7#top', '/orders?id=7#top'],
    ['http://auth.test/orders', '/orders'],
    ['https://shop.example/cart', 'https://shop.example/cart'],
    [undefined, '/account'],
    ['', '/account'],
    ['https://evil.example/', '/account'],
    ['//evil.example/x', '/account'],
    ['///evil.example/x', '/account'],
    ['/\\evil.example', '/account'],
    ['\\\\evil.example', '/account'],
    ['/\t/evil.example', '/account'],
    [' //evil.example', '/account'],
    ['javascript:alert(1)', '/account'],
    ['data:text/html,<script>alert(1)</script>', '/account'],
    ['https:evil.example', '/account'],
    ['http://auth.test@evil.example/', '/account'],
    ['http://user:pw@auth.test/', '/account'],
    ['https://shop.example.evil.example/', '/account'],
    ['http://shop.example/cart', '/account'],
    [['/a', '/b'], '/account'],
  ])('%j → %s', (raw, expected) => {
    expect(safeReturnTo(raw, issuer, allowed)).toBe(expected);
  });
});

describe('session rows', () => {
  it('names browser and OS from the user agent, and says how long ago', () => {
    expect(describeUserAgent(CHROME_LINUX)).toBe('Chrome 131 on Linux');
    expect(describeUserAgent(SAFARI_IPHONE)).toBe('Safari 17 on iOS 17.5');
    expect(describeUserAgent('curl/8.5.0')).toBe('curl');
    expect(describeUserAgent('')).toBe('Unknown browser');
    const now = Date.UTC(2026, 11, 1, 12);
    expect(timeAgo(now - 3 * 60_000 - 5_000, now)).toBe('3 minutes ago');
    expect(timeAgo(now - 10_000, now)).toBe('just now');
    expect(timeAgo(now - 26 * 3_600_000, now)).toBe('yesterday');
  });
});

describe('GET /login and GET /account', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ TESSERA_ALLOWED_ORIGINS: 'https://shop.example' });
    await t.addUser('alice', 'alice-password-1', ['user']);
  });
  afterAll(() => t.close());

  async function signIn(userAgent: string): Promise<{ cookie: string; sessionId: string }> {
    const res = await t.login('alice', 'alice-password-1', {
      'x-tessera-transfer': 'cookie',
      'user-agent': userAgent,
    });
    expect(res.statusCode).toBe(200);
    return { cookie: cookieHeader(res), sessionId: res.json().session.id };
  }

  it('serves the login form under a CSP without unsafe-inline, with no inline script or foreign asset', async () => {
    const res = await t.app.inject({ url: '/login' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
    const csp = String(res.headers['content-security-policy']);
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).toContain("script-src 'self'");
    expect(csp).not.toContain('unsafe-inline');
    expect(csp).not.toContain('unsafe-eval');
    expect(res.headers['x-frame-options']).toBe('DENY');
    expect(res.body).toMatch(/<label for="username">Username<\/label>/);
    expect(res.body).toMatch(/<label for="password">Password<\/label>/);
    expect(res.body).toMatch(/<button id="sign-in" type="submit">Sign in<\/button>/);
    expect(res.body).not.toMatch(/<script(?![^>]*\ssrc=)[^>]*>/); // every script is a file
    expect(res.body).not.toMatch(/\sstyle=/);
    expect(res.body).not.toMatch(/(src|href)="(https?:)?\/\//);
    const script = /<script type="module" src="([^"]+)"/.exec(res.body)?.[1] as string;
    const js = await t.app.inject({ url: script });
    expect(js.statusCode).toBe(200);
    expect(js.headers['content-type']).toBe('text/javascript; charset=utf-8');
    expect(js.headers['cache-control']).toContain('immutable');
    expect(js.body).toContain('/v1/session/events');
  });

  it('keeps return_to on allowed origins only, in the page and in the signed-in redirect', async () => {
    const page = (q: string) => t.app.inject({ url: `/login?return_to=${encodeURIComponent(q)}` });
    expect(returnToOf((await page('/orders?x=1')).body)).toBe('/orders?x=1');
    expect(returnToOf((await page('https://shop.example/cart')).body)).toBe('https://shop.example/cart');
    expect(returnToOf((await page('https://evil.example/')).body)).toBe('/account');
    expect(returnToOf((await page('//evil.example')).body)).toBe('/account');
    expect(returnToOf((await page('"><script>alert(1)</script>')).body)).toBe('/account');
    const { cookie } = await signIn(CHROME_LINUX);
    const redirect = await t.app.inject({
      url: `/login?return_to=${encodeURIComponent('https://evil.example/')}`,
      headers: { cookie },
    });
    expect(redirect.statusCode).toBe(303);
    expect(redirect.headers.location).toBe('/account');
    const allowed = await t.app.inject({ url: '/login?return_to=/orders', headers: { cookie } });
    expect(allowed.headers.location).toBe('/orders');
  });

  it('says why the session ended only for known codes (nothing else is echoed)', async () => {
    const revoked = await t.app.inject({ url: '/login?ended=session_revoked' });
    expect(revoked.body).toContain('Your session was ended from another device or tab. Sign in again.');
    const other = await t.app.inject({ url: `/login?ended=${encodeURIComponent('<b>hi</b>')}` });
    expect(other.body).not.toContain('hi</b>');
    expect(other.body).toContain('<p id="status" class="status" role="status" aria-live="polite"></p>');
  });

  it('lists the live sessions with "This device", IP, created and last seen', async () => {
    const phone = await signIn(SAFARI_IPHONE);
    const desk = await signIn(CHROME_LINUX);
    const res = await t.app.inject({ url: '/account', headers: { cookie: desk.cookie } });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-security-policy']).toContain("frame-ancestors 'none'");
    expect(res.body).toContain('<h1 id="sessions-heading" tabindex="-1">Your sessions</h1>');
    const rows = res.body.split('<li ').slice(1);
    const current = rows.filter((row) => row.includes('This device'));
    expect(current).toHaveLength(1);
    expect(current[0]).toContain(`data-session-id="${desk.sessionId}"`);
    expect(current[0]).toContain('Chrome 131 on Linux');
    expect(res.body).toContain(`data-session-id="${phone.sessionId}"`);
    expect(res.body).toContain('Safari 17 on iOS 17.5');
    expect(rows.every((row) => />Sign out<\/button>/.test(row))).toBe(true);
    expect(res.body).toContain('>Sign out everywhere else</button>');
    expect(res.body).toMatch(/<dt>IP<\/dt><dd>127\.0\.0\.1<\/dd>/);
    expect(res.body).toMatch(/<dt>Last seen<\/dt><dd><time datetime="[^"]+" title="[^"]+">just now<\/time>/);
  });

  it('sends an ended session to /login (clearing its cookies) and lets a missing cookie refresh first', async () => {
    const { cookie, sessionId } = await signIn(CHROME_LINUX);
    const del = await t.app.inject({
      method: 'DELETE',
      url: `/v1/admin/users/alice/sessions`,
      headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
    });
    expect(del.statusCode).toBe(204);
    const res = await t.app.inject({ url: '/account', headers: { cookie } });
    expect(res.statusCode).toBe(303);
    expect(res.headers.location).toBe('/login?ended=session_revoked&return_to=%2Faccount');
    expect(res.cookies.find((c) => c.name === 'tessera_access')?.maxAge).toBe(0);
    expect(sessionId).toBeTruthy();
    const none = await t.app.inject({ url: '/account' });
    expect(none.statusCode).toBe(200);
    expect(none.body).toContain('data-state="renew"');
  });
});
