import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '@tessera/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, startServe, startService, stopService } from './run-cli.ts';

const ADMIN = 'e2e-admin-token-0123456789abcdef';
const PASSWORD = 'correct horse battery';

describe('what a new user does: npm start, CLI, fetch', () => {
  let child: ChildProcess;
  let output: () => string;
  let base: string;
  let env: Record<string, string>;
  let dataDir: string;

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'tessera-e2e-'));
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    env = {
      PORT: String(port),
      TESSERA_DATA_DIR: dataDir,
      TESSERA_COOKIE_SECURE: 'false',
      TESSERA_ADMIN_TOKEN: ADMIN,
      TESSERA_AUTH_URL: base,
    };
    ({ child, output } = await startService(env));
  }, 30_000);
  afterAll(async () => {
    if (child) await stopService(child);
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('prints the issuer, the JWKS URL and how to add a user', () => {
    expect(output()).toContain(`issuer:  ${base}`);
    expect(output()).toContain(`${base}/.well-known/jwks.json`);
    expect(output()).toContain('npx tessera user add alice --roles admin --password-stdin');
  });

  it('adds a user with the CLI, logs in, reads the session, refreshes, logs out, then 401', async () => {
    const added = await runCli(
      ['user', 'add', 'alice', '--roles', 'admin,ops', '--password-stdin'],
      env,
      `${PASSWORD}\n`,
    );
    expect(added.code).toBe(0);
    expect(added.stdout.trim()).toMatch(/^[A-Za-z0-9_-]{1,64}$/);
    const userId = added.stdout.trim();

    const login = await fetch(`${base}/v1/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'alice', password: PASSWORD }),
    });
    expect(login.status).toBe(200);
    const tokens = (await login.json()) as {
      accessToken: string;
      refreshToken: string;
      session: { id: string };
    };
    const session = await fetch(`${base}/v1/session`, {
      headers: { authorization: `Bearer ${tokens.accessToken}` },
    });
    expect(session.status).toBe(200);
    expect(await session.json()).toMatchObject({
      user: { id: userId, username: 'alice', roles: ['admin', 'ops'] },
    });

    const listed = await runCli(['sessions', 'list', '--user', 'alice'], env);
    expect(listed.code).toBe(0);
    expect(listed.stdout.trim().split('\n')).toHaveLength(1);
    expect(listed.stdout).toContain(tokens.session.id);
    // no admin token: through the service's control socket in the data dir
    const local = await runCli(['sessions', 'list', '--user', 'alice'], { ...env, TESSERA_ADMIN_TOKEN: '' });
    expect(local.code).toBe(0);
    expect(local.stdout).toContain(tokens.session.id);

    const refresh = await fetch(`${base}/v1/refresh`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ refreshToken: tokens.refreshToken }),
    });
    expect(refresh.status).toBe(200);
    const next = (await refresh.json()) as { accessToken: string };
    const logout = await fetch(`${base}/v1/logout`, {
      method: 'POST',
      headers: { authorization: `Bearer ${next.accessToken}` },
    });
    expect(logout.status).toBe(204);
    const after = await fetch(`${base}/v1/session`, {
      headers: { authorization: `Bearer ${next.accessToken}` },
    });
    expect(after.status).toBe(401);
    expect(after.headers.get('content-type')).toMatch(/^application\/problem\+json/);
  });

  it('four CLI calls at once all land in the users file, and each user can log in at once', async () => {
    const names = ['dave', 'erin', 'frank', 'grace'];
    const results = await Promise.all(
      names.map((name) => runCli(['user', 'add', name, '--password-stdin'], env, PASSWORD)),
    );
    for (const result of results) expect(result.code).toBe(0);
    const file = JSON.parse(readFileSync(join(dataDir, 'users.json'), 'utf8')) as {
      users: Array<{ username: string }>;
    };
    expect(file.users.map((u) => u.username)).toEqual(expect.arrayContaining(names));
    for (const name of names) {
      const login = await fetch(`${base}/v1/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ username: name, password: PASSWORD }),
      });
      expect(login.status).toBe(200);
    }
  });

  it('CLI exit codes and messages', async () => {
    expect((await runCli(['--help'], env)).code).toBe(0);
    expect((await runCli([], env)).code).toBe(2);
    expect((await runCli(['bogus'], env)).code).toBe(2);
    expect((await runCli(['user', 'add', 'bob'], env)).code).toBe(2);
    expect((await runCli(['sessions', 'revoke'], env)).code).toBe(2);
    const dup = await runCli(['user', 'add', 'alice', '--password-stdin'], env, PASSWORD);
    expect(dup.code).toBe(1);
    expect(dup.stderr.trim().split('\n')).toHaveLength(1);
    const badEnv = await runCli(['sessions', 'list', '--user', 'alice'], {
      ...env,
      TESSERA_ACCESS_TTL: 'soon',
    });
    expect(badEnv.code).toBe(1);
    expect(badEnv.stderr.trim()).toMatch(/^tessera: TESSERA_ACCESS_TTL: expected/);
    const elsewhere = mkdtempSync(join(tmpdir(), 'tessera-e2e-other-'));
    const noService = await runCli(['sessions', 'list', '--user', 'alice'], {
      ...env,
      TESSERA_ADMIN_TOKEN: '',
      TESSERA_DATA_DIR: elsewhere,
    });
    rmSync(elsewhere, { recursive: true, force: true });
    expect(noService.code).toBe(1);
    expect(noService.stderr.trim().split('\n')).toHaveLength(1);
    expect(noService.stderr).toContain('TESSERA_ADMIN_TOKEN');
  });

  it('sessions revoke (one and --user) through the admin API', async () => {
    const login = async () =>
      (await (
        await fetch(`${base}/v1/login`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ username: 'alice', password: PASSWORD }),
        })
      ).json()) as { accessToken: string; session: { id: string } };
    const a = await login();
    const b = await login();
    expect((await runCli(['sessions', 'revoke', a.session.id], env)).code).toBe(0);
    expect(
      (await fetch(`${base}/v1/session`, { headers: { authorization: `Bearer ${a.accessToken}` } })).status,
    ).toBe(401);
    expect((await runCli(['sessions', 'revoke', '--user', 'alice'], env)).code).toBe(0);
    expect(
      (await fetch(`${base}/v1/session`, { headers: { authorization: `Bearer ${b.accessToken}` } })).status,
    ).toBe(401);
  });

  it('keys rotate publishes a new key that the running service signs with', async () => {
    const before = (await (await fetch(`${base}/.well-known/jwks.json`)).json()) as {
      keys: Array<{ kid: string }>;
    };
    const rotated = await runCli(['keys', 'rotate'], env);
    expect(rotated.code).toBe(0);
    const kid = /new signing key ([A-Za-z0-9_-]+)/.exec(rotated.stdout)?.[1];
    expect(kid).toBeTruthy();
    await new Promise((r) => setTimeout(r, 1500));
    const after = (await (await fetch(`${base}/.well-known/jwks.json`)).json()) as {
      keys: Array<{ kid: string }>;
    };
    expect(after.keys.map((k) => k.kid)).toEqual(
      expect.arrayContaining([...before.keys.map((k) => k.kid), kid]),
    );
  });
});

describe('tessera serve shutdown', () => {
  it('finishes in-flight requests and exits 0 on SIGTERM', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'tessera-e2e-'));
    const port = await freePort();
    const { child, output } = await startServe({ PORT: String(port), TESSERA_DATA_DIR: dataDir });
    try {
      const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
      expect((await fetch(`http://127.0.0.1:${port}/healthz`)).status).toBe(200); // opens a keep-alive connection
      const inFlight = fetch(`http://127.0.0.1:${port}/v1/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ username: 'nobody', password: 'whatever-password' }),
      });
      await new Promise((r) => setTimeout(r, 5));
      child.kill('SIGTERM');
      expect((await inFlight).status).toBe(401);
      expect(await exited).toBe(0);
      expect(output()).toContain('shutting down');
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
