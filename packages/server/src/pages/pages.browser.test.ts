import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import type { Clock } from '@tessera/core';
import { freePort } from '@tessera/testkit';
import { ADMIN_TOKEN, TEST_PASSWORD_PARAMS } from '@tessera/testkit/auth-service';
import type { FastifyInstance } from 'fastify';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildAuthServer } from '../app.ts';
import { loadConfig } from '../config/env-config.ts';

const CHROMIUM = '/usr/bin/chromium';
const DOCS = fileURLToPath(new URL('../../../../docs/screenshots/', import.meta.url));
if (!existsSync(CHROMIUM)) {
  console.warn('pages.browser: /usr/bin/chromium is not installed (apt-get install chromium); skipping');
}

/** Real time plus an offset the test can move forward (access tokens expire without waiting). */
function offsetClock(): Clock & { advance(ms: number): void } {
  let offset = 0;
  return { now: () => Date.now() + offset, advance: (ms) => (offset += ms) };
}

/** Login attempts a username gets per window (more than any user here signs in successfully). */
const RATE_USER = 8;

const quantile = (sorted: number[], q: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] as number;

describe.skipIf(!existsSync(CHROMIUM))(
  'the login and account pages in a real browser',
  () => {
    const clock = offsetClock();
    let app: FastifyInstance;
    let base: string;
    let dataDir: string;
    let browser: Browser;
    const refreshes: string[] = [];
    /** CSP violations and CSP console messages, from every page of every context. */
    const violations: string[] = [];

    beforeAll(async () => {
      dataDir = mkdtempSync(join(tmpdir(), 'tessera-pages-'));
      const port = await freePort();
      base = `http://127.0.0.1:${port}`;
      app = await buildAuthServer(
        loadConfig({
          HOST: '127.0.0.1',
          PORT: String(port),
          TESSERA_ISSUER: base,
          TESSERA_DATA_DIR: dataDir,
          TESSERA_USERS: 'memory',
          TESSERA_ADMIN_TOKEN: ADMIN_TOKEN,
          TESSERA_ACCESS_TTL: '10m',
          TESSERA_LOGIN_RATE_USER: String(RATE_USER),
          TESSERA_LOGIN_RATE_IP: '500',
          TESSERA_LOGIN_RATE_WINDOW: '1m',
          LOG_LEVEL: 'warn',
        }),
        {
          clock,
          passwordParams: TEST_PASSWORD_PARAMS,
          logStream: new Writable({ write: (_c, _e, done) => done() }),
        },
      );
      app.addHook('onRequest', async (request) => {
        if (request.url === '/v1/refresh') refreshes.push(request.headers['user-agent'] ?? '');
      });
      await app.listen({ port, host: '127.0.0.1' });
      for (const username of ['alice', 'bob', 'mallory', 'kim']) {
        const res = await fetch(`${base}/v1/admin/users`, {
          method: 'POST',
          headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
          body: JSON.stringify({ username, password: `${username}-password-1`, roles: ['user'] }),
        });
        expect(res.status).toBe(201);
      }
      // launch() gives every run a fresh temporary profile (playwright's own user-data-dir).
      browser = await chromium.launch({
        executablePath: CHROMIUM,
        args: [
          '--no-sandbox',
          '--headless',
          '--disable-gpu',
          '--disable-background-networking',
          '--disable-component-update',
          '--disable-sync',
          '--no-first-run',
        ],
      });
    }, 60_000);

    afterAll(async () => {
      await browser?.close();
      await app?.close();
      rmSync(dataDir, { recursive: true, force: true });
      expect(violations, 'no Content-Security-Policy violations on any page').toEqual([]);
    });

    async function newContext(options: Parameters<Browser['newContext']>[0] = {}): Promise<BrowserContext> {
      const context = await browser.newContext(options);
      context.setDefaultTimeout(15_000);
      await context.addInitScript(() => {
        document.addEventListener('securitypolicyviolation', (event) => {
          console.error(`CSP violation: ${event.violatedDirective} ${event.blockedURI}`);
        });
      });
      context.on('console', (message) => {
        const text = message.text();
        if (/content security policy|CSP violation/i.test(text)) violations.push(text);
      });
      return context;
    }

    async function signIn(page: Page, username: string, returnTo?: string): Promise<void> {
      await page.goto(`${base}/login${returnTo ? `?return_to=${encodeURIComponent(returnTo)}` : ''}`);
      await page.getByLabel('Username').fill(username);
      await page.getByLabel('Password').fill(`${username}-password-1`);
      await page.getByRole('button', { name: 'Sign in', exact: true }).click();
      await page.waitForURL(`${base}/account`);
    }

    it('signs in with the keyboard alone; the browser holds only HttpOnly cookies; /account shows This device', async () => {
      const context = await newContext();
      const page = await context.newPage();
      const response = await page.goto(`${base}/login`);
      const csp = response?.headers()['content-security-policy'] ?? '';
      expect(csp).toContain("frame-ancestors 'none'");
      expect(csp).not.toContain('unsafe-inline');
      await page.keyboard.press('Tab');
      expect(await page.evaluate(() => document.activeElement?.id)).toBe('username');
      await page.keyboard.type('alice');
      await page.keyboard.press('Tab');
      expect(await page.evaluate(() => document.activeElement?.id)).toBe('password');
      await page.keyboard.type('alice-password-1');
      await page.keyboard.press('Enter');
      await page.waitForURL(`${base}/account`);
      await expect(page.getByRole('heading', { name: 'Your sessions' }).isVisible()).resolves.toBe(true);
      const current = page.locator('li.session', { hasText: 'This device' });
      await expect(current.count()).resolves.toBe(1);
      await expect(current.textContent()).resolves.toMatch(/Chrome \d+ on Linux/);
      await expect(current.textContent()).resolves.toContain('127.0.0.1');
      expect(await page.evaluate(() => document.cookie)).toBe('');
      const cookies = await context.cookies();
      expect(cookies.map((c) => c.name).sort()).toEqual(['tessera_access', 'tessera_refresh']);
      expect(cookies.every((c) => c.httpOnly && c.sameSite === 'Lax')).toBe(true);
      // Fine at 320 px: nothing wider than the screen.
      await page.setViewportSize({ width: 320, height: 640 });
      expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(320);
      await page.setViewportSize({ width: 1100, height: 620 });
      // Keyboard on /account: Tab reaches the row's Sign out button.
      await page.keyboard.press('Tab');
      expect(await page.evaluate(() => document.activeElement?.textContent)).toBe('Sign out');
      if (process.env.UPDATE_SCREENSHOTS === '1') {
        mkdirSync(DOCS, { recursive: true });
        clock.advance(3 * 60_000); // the desktop session is a few minutes old in the pictures
        const phone = await newContext({
          viewport: { width: 375, height: 720 },
          isMobile: true,
          hasTouch: true,
          userAgent:
            'Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36',
        });
        const phonePage = await phone.newPage();
        await phonePage.goto(`${base}/login`);
        await phonePage.screenshot({ path: join(DOCS, 'login-375.png') });
        await signIn(phonePage, 'alice');
        await page.reload();
        await page.setViewportSize({ width: 1100, height: 620 });
        await page.screenshot({ path: join(DOCS, 'account-desktop.png') });
        await phonePage.screenshot({ path: join(DOCS, 'account-375.png'), fullPage: true });
        const fresh = await (await newContext({ viewport: { width: 1100, height: 620 } })).newPage();
        await fresh.goto(`${base}/login`);
        await fresh.getByLabel('Username').fill('alice');
        await fresh.getByLabel('Password').fill('not-the-password');
        await fresh.keyboard.press('Enter');
        await fresh.locator('#form-error:not([hidden])').waitFor();
        await fresh.screenshot({ path: join(DOCS, 'login-desktop.png') });
      }
      await context.close();
    });

    it('shows errors from the problem code, focused and announced: empty fields, wrong password, rate limited with the wait', async () => {
      const context = await newContext();
      const page = await context.newPage();
      await page.goto(`${base}/login`);
      await page.getByRole('button', { name: 'Sign in', exact: true }).click();
      expect(await page.evaluate(() => document.activeElement?.id)).toBe('username');
      await expect(page.getByLabel('Username').getAttribute('aria-invalid')).resolves.toBe('true');
      await expect(page.locator('#username-error').textContent()).resolves.toBe('Enter your username.');
      for (let attempt = 0; attempt < RATE_USER; attempt++) {
        await page.getByLabel('Username').fill('mallory');
        await page.getByLabel('Password').fill('wrong-password');
        await page.keyboard.press('Enter');
        await page.waitForFunction(() => document.activeElement?.id === 'form-error');
        await expect(page.getByRole('alert').textContent()).resolves.toBe('Wrong username or password.');
        await page.evaluate(() => {
          (document.getElementById('form-error') as HTMLElement).hidden = true;
          (document.getElementById('username') as HTMLElement).focus();
        });
      }
      await page.getByLabel('Password').fill('wrong-password');
      await page.keyboard.press('Enter');
      await page.waitForFunction(() => document.activeElement?.id === 'form-error');
      const message = (await page.getByRole('alert').textContent()) ?? '';
      expect(message).toMatch(/^Too many failed attempts\. Try again in \d+ seconds?\.$/);
      const seconds = Number(/in (\d+)/.exec(message)?.[1]);
      expect(seconds).toBeGreaterThan(0);
      expect(seconds).toBeLessThanOrEqual(60);
      await context.close();
    });

    it('goes to return_to on the issuer, and never to another origin', async () => {
      const context = await newContext();
      const page = await context.newPage();
      await page.goto(`${base}/login?return_to=${encodeURIComponent('https://evil.example/steal')}`);
      await page.getByLabel('Username').fill('kim');
      await page.getByLabel('Password').fill('kim-password-1');
      await page.keyboard.press('Enter');
      await page.waitForURL(`${base}/account`);
      await page.goto(`${base}/login?return_to=${encodeURIComponent('//evil.example/steal')}`);
      expect(page.url()).toBe(`${base}/account`); // signed in: straight to the safe target
      await context.close();
    });

    it('signs out a second browser from the first; its open page shows the login page within 5 s untouched', async () => {
      const first = await newContext();
      const firstPage = await first.newPage();
      await signIn(firstPage, 'bob');
      const trials: number[] = [];
      const steps: string[] = [];
      for (let trial = 0; trial < 5; trial++) {
        const second = await newContext();
        const secondPage = await second.newPage();
        const streamOpen = secondPage.waitForResponse((r) => r.url().endsWith('/v1/session/events'));
        await signIn(secondPage, 'bob');
        expect((await streamOpen).status()).toBe(200);
        const id = await secondPage.locator('li.session.current').getAttribute('data-session-id');
        await firstPage.reload();
        const row = firstPage.locator(`li.session[data-session-id="${id}"]`);
        await expect(row.count()).resolves.toBe(1);
        const landed = secondPage.waitForURL(/\/login\?ended=session_revoked/, { timeout: 5_000 });
        // When the page was told (it asks for the login page), apart from when that page is shown.
        const told = secondPage
          .waitForRequest((r) => r.url().includes('/login?ended='), { timeout: 5_000 })
          .then(() => Date.now());
        const revoked = firstPage
          .waitForResponse((r) => r.url().endsWith(`/v1/sessions/${id}`), { timeout: 5_000 })
          .then(() => Date.now());
        await row.getByRole('button', { name: 'Sign out' }).click();
        await landed;
        await secondPage.getByRole('button', { name: 'Sign in', exact: true }).waitFor({ timeout: 5_000 });
        const shown = Date.now();
        trials.push(shown - (await revoked));
        steps.push(`${(await told) - (await revoked)}`);
        await expect(secondPage.getByRole('status').textContent()).resolves.toContain(
          'Your session was ended from another device or tab.',
        );
        await expect(firstPage.getByRole('status').textContent()).resolves.toMatch(/was signed out\.$/);
        await second.close();
      }
      const sorted = [...trials].sort((a, b) => a - b);
      console.log(
        `revoke (DELETE answered) → other browser shows /login: ${trials.join(', ')} ms; p50 ${quantile(sorted, 0.5)} ms, max ${sorted.at(-1)} ms` +
          ` (→ page told: ${steps.join(', ')} ms)`,
      );
      expect(Math.max(...trials)).toBeLessThan(5_000);
      await first.close();
    });

    it('tells every tab of a browser when it signs out', async () => {
      const context = await newContext();
      const [one, two] = [await context.newPage(), await context.newPage()];
      await signIn(one, 'kim');
      await two.goto(`${base}/account`);
      await one.locator('li.session.current').getByRole('button', { name: 'Sign out' }).click();
      await Promise.all([one.waitForURL(/\/login\?ended=logged_out/), two.waitForURL(/\/login\?ended=/)]);
      await expect(one.getByRole('status').textContent()).resolves.toBe('You are signed out.');
      expect(await context.cookies()).toEqual([]);
      await context.close();
    });

    for (const locks of ['Web Locks', 'BroadcastChannel leader (no Web Locks)'] as const) {
      it(`two tabs with an expired access token cause exactly one refresh (${locks})`, async () => {
        const context = await newContext({ userAgent: `RefreshTest (${locks})` });
        if (locks !== 'Web Locks') {
          await context.addInitScript(() => {
            Object.defineProperty(Navigator.prototype, 'locks', { get: () => undefined, configurable: true });
          });
        }
        const [one, two] = [await context.newPage(), await context.newPage()];
        // Event streams open before the clock moves (with Web Locks only the first tab holds one).
        const events = (page: Page) => page.waitForResponse((r) => r.url().endsWith('/v1/session/events'));
        const streams = [events(one), ...(locks === 'Web Locks' ? [] : [events(two)])];
        await signIn(one, 'alice');
        await two.goto(`${base}/account`);
        for (const stream of streams) expect((await stream).status()).toBe(200);
        expect(await two.evaluate(() => 'locks' in navigator && navigator.locks !== undefined)).toBe(
          locks === 'Web Locks',
        );
        const before = refreshes.length;
        clock.advance(11 * 60_000); // both tabs' access token (one cookie) has expired at the server
        await Promise.all([one.reload({ waitUntil: 'commit' }), two.reload({ waitUntil: 'commit' })]);
        for (const page of [one, two]) {
          await expect
            .poll(
              () =>
                page
                  .evaluate(
                    () => document.body.dataset.state !== 'renew' && !!document.querySelector('li.current'),
                  )
                  .catch(() => false), // mid-reload
              { timeout: 10_000 },
            )
            .toBe(true);
        }
        expect(refreshes.slice(before)).toEqual([`RefreshTest (${locks})`]);
        await context.close();
      });
    }

    it('never loops on a 401 that a refresh cannot fix', async () => {
      const context = await newContext();
      const page = await context.newPage();
      // The page's event stream must be open before the cookies go, or its connect (without a
      // cookie) would start the refresh this test counts.
      const streamOpen = page.waitForResponse((r) => r.url().endsWith('/v1/session/events'));
      await signIn(page, 'kim');
      expect((await streamOpen).status()).toBe(200);
      const before = refreshes.length;
      const requests: string[] = [];
      page.on('request', (request) => requests.push(new URL(request.url()).pathname));
      await context.clearCookies(); // neither access nor refresh cookie: nothing a refresh can fix
      const status = await page.evaluate(async () => {
        const response = await fetch('/v1/sessions', { credentials: 'same-origin' });
        return response.status;
      });
      expect(status).toBe(401);
      // The renew page: one refresh attempt, refused, then the login page (possibly before the
      // reloaded page's load event, so wait only for the commit).
      await page.reload({ waitUntil: 'commit' });
      await page.waitForURL(/\/login\?ended=/);
      expect(refreshes.length - before, `requests: ${requests.join(' ')}`).toBe(1);
      expect(requests.filter((p) => p === '/v1/refresh')).toHaveLength(1);
      await context.close();
    });

    it('refuses a cross-origin form post that carries the cookie (403 csrf), and the session lives on', async () => {
      const context = await newContext();
      const page = await context.newPage();
      await signIn(page, 'alice');
      // Same site (127.0.0.1), other origin: the browser sends the Lax cookie with a top-level POST.
      const evil: Server = createServer((_req, res) => {
        res.setHeader('content-type', 'text/html');
        res.end(`<form method="post" action="${base}/v1/logout/all"><button>Win a prize</button></form>`);
      });
      await new Promise<void>((resolve) => evil.listen(0, '127.0.0.1', resolve));
      const address = evil.address();
      const evilUrl = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}/`;
      const attacker = await context.newPage();
      await attacker.goto(evilUrl);
      const [answer] = await Promise.all([
        attacker.waitForResponse(`${base}/v1/logout/all`),
        attacker.getByRole('button', { name: 'Win a prize' }).click(),
      ]);
      expect(answer.status()).toBe(403);
      expect(await answer.json()).toMatchObject({ code: 'csrf' });
      // 403 csrf, not 401: the cookie was sent, and the missing same-origin proof refused it.
      await page.reload();
      await expect(page.locator('li.session.current').count()).resolves.toBe(1);
      await new Promise<void>((resolve) => evil.close(() => resolve()));
      await context.close();
    });
  },
  180_000,
);
