import { type ChildProcess, spawn } from 'node:child_process';
import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type RedisServer, startRedis } from '@tessera/testkit';
import { type Browser, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, ROOT } from './testing/processes.ts';
import { type ShopStack, startShopStack } from './testing/shop-stack.ts';

const CHROMIUM = '/usr/bin/chromium';
const NGINX = ['/usr/sbin/nginx', '/usr/bin/nginx'].find((path) => existsSync(path));
const missing = [!existsSync(CHROMIUM) && 'chromium', !NGINX && 'nginx'].filter(Boolean);
if (missing.length > 0) {
  console.warn(
    `browser.e2e: ${missing.join(' and ')} not installed (apt-get install chromium nginx); skipping`,
  );
}

describe.skipIf(missing.length > 0)(
  'the shop page in a real browser (cookie transfer, CSRF, global logout)',
  () => {
    let redis: RedisServer;
    let stack: ShopStack;
    let nginx: ChildProcess;
    let prefix: string;
    let origin: string;
    let browser: Browser;
    let page: Page;
    const events: string[] = [];

    beforeAll(async () => {
      redis = await startRedis();
      stack = await startShopStack({ mode: 'jwt', redisUrl: redis.url });
      const port = await freePort();
      origin = `http://127.0.0.1:${port}`;
      prefix = mkdtempSync(join(tmpdir(), 'tessera-web-'));
      mkdirSync(join(prefix, 'tmp'));
      // nginx's workers run as an unprivileged user and cannot read a checkout in a 0700 folder
      // (CI clones into one): serve a copy of the page from the prefix, readable by everyone.
      chmodSync(prefix, 0o755);
      mkdirSync(join(prefix, 'web'), { mode: 0o755 });
      copyFileSync(join(ROOT, 'examples/shop/web/index.html'), join(prefix, 'web/index.html'));
      chmodSync(join(prefix, 'web/index.html'), 0o644);
      const host = (url: string) => new URL(url).host;
      writeFileSync(
        join(prefix, 'nginx.conf'),
        readFileSync(join(ROOT, 'examples/shop/gateway/single-origin.conf.template'), 'utf8')
          .replaceAll('__LISTEN__', String(port))
          .replaceAll('__WEB__', join(prefix, 'web'))
          .replaceAll('__AUTH__', host(stack.authUrl))
          .replaceAll('__ORDERS__', host(stack.services.orders.url))
          .replaceAll('__PROFILE__', host(stack.services.profile.url)),
      );
      nginx = spawn(
        NGINX as string,
        ['-p', prefix, '-c', 'nginx.conf', '-g', `daemon off; pid ${join(prefix, 'nginx.pid')};`],
        {
          stdio: ['ignore', 'ignore', 'inherit'],
        },
      );
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
      page = await browser.newPage();
      // A stuck step fails within 15 s with the step named, instead of the whole test timing out.
      page.setDefaultTimeout(15_000);
      page.on('requestfailed', (request) =>
        events.push(`request failed: ${request.method()} ${request.url()}`),
      );
      page.on('response', (response) =>
        events.push(`${response.status()} ${response.request().method()} ${response.url()}`),
      );
      page.on('console', (message) => events.push(`console ${message.type()}: ${message.text()}`));
      for (let i = 0; i < 100; i++) {
        try {
          if ((await fetch(origin)).ok) break;
        } catch {
          await new Promise((r) => setTimeout(r, 50));
        }
      }
    }, 60_000);

    afterAll(async () => {
      await browser?.close();
      if (nginx && nginx.exitCode === null) {
        const exited = new Promise((r) => nginx.once('exit', r));
        nginx.kill('SIGQUIT');
        await exited;
      }
      await stack?.stop();
      await redis?.stop();
      if (prefix) rmSync(prefix, { recursive: true, force: true });
    });

    /** Clicks `selector` and waits for the page to show the answer (page-side DOM work as strings). */
    async function click(selector: string): Promise<{ status: string; text: string }> {
      await page.evaluate("document.getElementById('out').dataset.status = ''");
      await page.click(selector);
      await page
        .waitForFunction("document.getElementById('out').dataset.status !== ''")
        .catch((error: unknown) => {
          throw new Error(
            `no answer shown after clicking ${selector}; last page events:\n${events.slice(-8).join('\n')}`,
            {
              cause: error,
            },
          );
        });
      const out = page.locator('#out');
      return { status: (await out.getAttribute('data-status')) ?? '', text: (await out.textContent()) ?? '' };
    }

    it('logs in with HttpOnly cookies only, reaches both services, refuses a cross-site-style POST, and logs out everywhere', {
      timeout: 90_000,
    }, async () => {
      const page0 = await page.goto(origin);
      expect(page0?.status(), 'the shop page must load through nginx').toBe(200);
      await page.fill('input[name=username]', 'root');
      await page.fill('input[name=password]', 'root-password-123');
      const login = (await click('#login button')).text;
      expect(login.startsWith('200 ')).toBe(true);
      expect(login).not.toContain('accessToken');
      expect(login).not.toContain('tsr_');

      expect(await page.evaluate('document.cookie')).toBe('');
      const cookies = await page.context().cookies();
      const access = cookies.find((c) => c.name === 'tessera_access');
      const refresh = cookies.find((c) => c.name === 'tessera_refresh');
      expect(access).toMatchObject({ httpOnly: true, sameSite: 'Lax', path: '/' });
      expect(refresh).toMatchObject({ httpOnly: true, path: '/v1/refresh' });

      const orders = await click('#orders');
      expect(orders.status).toBe('200');
      expect(orders.text).toContain('"roles":["user","admin"]');
      expect((await click('#profile')).status).toBe('200');

      const csrf = await page.evaluate(async () => {
        const response = await fetch('/v1/logout', { method: 'POST', credentials: 'same-origin' });
        return { status: response.status, body: await response.json() };
      });
      expect(csrf).toMatchObject({ status: 403, body: { code: 'csrf' } });
      expect((await click('#orders')).status).toBe('200');

      expect((await click('#refresh')).status).toBe('200');
      expect((await click('#orders')).status).toBe('200');
      await page.screenshot({ path: join(tmpdir(), 'tessera-shop.png') });

      expect((await click('#logout')).status).toBe('204');
      expect((await page.context().cookies()).find((c) => c.name === 'tessera_access')).toBeUndefined();
      const [afterOrders, afterProfile] = await Promise.all([
        fetch(`${stack.services.orders.url}/whoami`, {
          headers: { cookie: `tessera_access=${access?.value}` },
        }),
        fetch(`${stack.services.profile.url}/whoami`, {
          headers: { cookie: `tessera_access=${access?.value}` },
        }),
      ]);
      expect([afterOrders.status, afterProfile.status]).toEqual([401, 401]);
      expect((await click('#orders')).status).toBe('401');
    });
  },
);
