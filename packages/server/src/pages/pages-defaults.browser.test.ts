import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '@tessera/testkit';
import { chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, startService, stopService } from '../cli/run-cli.ts';

const CHROMIUM = '/usr/bin/chromium';
if (!existsSync(CHROMIUM)) {
  console.warn(
    'pages-defaults.browser: /usr/bin/chromium is not installed (apt-get install chromium); skipping',
  );
}

// What the README promises: `npm start` with the defaults, a user added with the CLI, and
// http://127.0.0.1:PORT/login works in a browser (cookies without Secure on the loopback issuer).
describe.skipIf(!existsSync(CHROMIUM))(
  'npm start with the defaults, a user added with the CLI, the login page in a browser',
  () => {
    let child: ChildProcess | undefined;
    let dataDir: string;
    let env: Record<string, string>;
    let base: string;

    beforeAll(async () => {
      dataDir = mkdtempSync(join(tmpdir(), 'tessera-defaults-'));
      const port = await freePort();
      base = `http://127.0.0.1:${port}`;
      // The defaults, whatever the caller's shell says: an empty variable counts as unset.
      env = Object.fromEntries(
        Object.keys(process.env)
          .filter((name) => name.startsWith('TESSERA_') || name === 'HOST')
          .map((name) => [name, '']),
      );
      Object.assign(env, { PORT: String(port), TESSERA_DATA_DIR: dataDir, LOG_LEVEL: 'warn' });
      ({ child } = await startService(env));
    }, 40_000);

    afterAll(async () => {
      if (child) await stopService(child);
      rmSync(dataDir, { recursive: true, force: true });
    });

    it('signs in on /login and shows /account (cookies without Secure on the loopback issuer)', async () => {
      const added = await runCli(
        ['user', 'add', 'alice', '--password-stdin'],
        env,
        'correct horse battery\n',
      );
      expect(added.code).toBe(0);
      const browser = await chromium.launch({
        executablePath: CHROMIUM,
        args: ['--no-sandbox', '--headless', '--disable-gpu'],
      });
      try {
        const context = await browser.newContext();
        const page = await context.newPage();
        page.setDefaultTimeout(15_000);
        await page.goto(`${base}/login`);
        await page.getByLabel('Username').fill('alice');
        await page.getByLabel('Password').fill('correct horse battery');
        await page.getByRole('button', { name: 'Sign in', exact: true }).click();
        await page.waitForURL(`${base}/account`);
        await page.locator('li.session.current', { hasText: 'This device' }).waitFor();
        const cookies = await context.cookies();
        expect(cookies.map((c) => [c.name, c.httpOnly, c.secure])).toEqual(
          expect.arrayContaining([
            ['tessera_access', true, false],
            ['tessera_refresh', true, false],
          ]),
        );
      } finally {
        await browser.close();
      }
    });
  },
);
