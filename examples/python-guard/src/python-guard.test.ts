import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort, type RedisServer, rawCommand, startRedis } from '@tessera/testkit';
import { exportJWK, generateKeyPair, type JWK, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { login, type Running, start } from '../../installed/src/processes.ts';

// examples/python-guard: a Python service that knows Tessera only from docs/redis-layout.md and
// the contract (Debian's python3-jwcrypto + python3-redis, run with /usr/bin/python3).
const REPO = fileURLToPath(new URL('../../../', import.meta.url));
const PYTHON = '/usr/bin/python3';
const ADMIN = 'python-guard-admin-token-0123456789abcdef';

function pythonReady(): string | null {
  try {
    execFileSync(PYTHON, ['-c', 'import jwcrypto, redis'], {
      stdio: 'ignore',
      env: { PATH: '/usr/bin:/bin' },
    });
    return null;
  } catch {
    return `${PYTHON} with python3-jwcrypto and python3-redis (apt-get install python3-jwcrypto python3-redis)`;
  }
}
const missing = pythonReady();
if (missing) console.warn(`skipping the Python guard tests: needs ${missing}`);

/** Milliseconds from now until `url` answers 401 to `token` (polled every 2 ms, gives up after 2 s). */
async function msUntil401(url: string, token: string): Promise<number> {
  const started = performance.now();
  while (performance.now() - started < 2000) {
    const response = await fetch(url, { headers: { authorization: `Bearer ${token}` } });
    if (response.status === 401) return performance.now() - started;
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
  return Number.POSITIVE_INFINITY;
}

describe.skipIf(missing !== null)('a Python service guarded from the documented Redis layout', () => {
  let redis: RedisServer;
  let auth: Running;
  let python: Running;
  let authUrl: string;
  let serviceUrl: string;
  let dataDir: string;
  let signingKey: Awaited<ReturnType<typeof generateKeyPair>>['privateKey'];
  let kid: string;

  const users = [
    ['alice', ['user']],
    ['root', ['user', 'admin']],
  ] as const;

  beforeAll(async () => {
    redis = await startRedis();
    dataDir = mkdtempSync(join(tmpdir(), 'tessera-python-'));
    // Our own signing key (TESSERA_KEYS), so the test can also forge tokens the guard must refuse.
    const pair = await generateKeyPair('EdDSA', { extractable: true });
    signingKey = pair.privateKey;
    kid = 'python-guard-test-key';
    const privateJwk: JWK = { ...(await exportJWK(pair.privateKey)), kid, alg: 'EdDSA', use: 'sig' };
    const port = await freePort();
    authUrl = `http://127.0.0.1:${port}`;
    auth = await start(process.execPath, ['packages/server/bin/tessera.cjs', 'serve'], {
      cwd: REPO,
      env: {
        PORT: String(port),
        HOST: '127.0.0.1',
        TESSERA_REDIS_URL: redis.url,
        TESSERA_DATA_DIR: dataDir,
        TESSERA_USERS: 'memory',
        TESSERA_KEYS: JSON.stringify({ keys: [privateJwk] }),
        TESSERA_ADMIN_TOKEN: ADMIN,
        TESSERA_COOKIE_SECURE: 'false',
        LOG_LEVEL: 'warn',
      },
      ready: /listening on/,
    });
    for (const [username, roles] of users) {
      const created = await fetch(`${authUrl}/v1/admin/users`, {
        method: 'POST',
        headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' },
        body: JSON.stringify({ username, password: `${username}-password-123`, roles }),
      });
      expect(created.status).toBe(201);
    }
    const servicePort = await freePort();
    serviceUrl = `http://127.0.0.1:${servicePort}`;
    python = await start(PYTHON, ['examples/python-guard/service.py'], {
      cwd: REPO,
      env: {
        PORT: String(servicePort),
        TESSERA_AUTH_URL: authUrl,
        TESSERA_REDIS_URL: redis.url,
        PYTHONDONTWRITEBYTECODE: '1',
      },
      ready: /listening on/,
    });
  }, 60_000);

  afterAll(async () => {
    await python?.stop();
    await auth?.stop();
    await redis?.stop();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  const whoami = (token?: string) =>
    fetch(`${serviceUrl}/whoami`, token ? { headers: { authorization: `Bearer ${token}` } } : {});

  it('log in → 200 with the principal; logout → 401 session_revoked within 100 ms', async () => {
    const { token, sessionId } = await login(authUrl, 'alice', 'alice-password-123');
    const ok = await whoami(token);
    expect(ok.status).toBe(200);
    expect(await ok.json()).toEqual({ userId: expect.any(String), sessionId, roles: ['user'] });
    expect(
      (await fetch(`${serviceUrl}/admin`, { headers: { authorization: `Bearer ${token}` } })).status,
    ).toBe(403);

    const logout = await fetch(`${authUrl}/v1/logout`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}` },
    });
    expect(logout.status).toBe(204);
    const ms = await msUntil401(`${serviceUrl}/whoami`, token);
    console.log(`python guard: 401 ${ms.toFixed(1)} ms after the logout response`);
    expect(ms).toBeLessThanOrEqual(100);
    const refused = await whoami(token);
    expect(refused.headers.get('content-type')).toContain('application/problem+json');
    expect(refused.headers.get('www-authenticate')).toBe('Bearer error="invalid_token"');
    expect(await refused.json()).toMatchObject({ status: 401, code: 'session_revoked' });
  });

  it('revoke-all (logout/all) → every session of the user 401 within 100 ms; others unaffected', async () => {
    const first = await login(authUrl, 'root', 'root-password-123');
    const second = await login(authUrl, 'root', 'root-password-123');
    const other = await login(authUrl, 'alice', 'alice-password-123');
    for (const { token } of [first, second, other]) expect((await whoami(token)).status).toBe(200);
    expect(
      (await fetch(`${serviceUrl}/admin`, { headers: { authorization: `Bearer ${first.token}` } })).status,
    ).toBe(200);
    const all = await fetch(`${authUrl}/v1/logout/all`, {
      method: 'POST',
      headers: { authorization: `Bearer ${first.token}` },
    });
    expect(all.status).toBe(204);
    const [a, b] = await Promise.all([
      msUntil401(`${serviceUrl}/whoami`, first.token),
      msUntil401(`${serviceUrl}/whoami`, second.token),
    ]);
    console.log(`python guard after revoke-all: 401 in ${a.toFixed(1)} / ${b.toFixed(1)} ms`);
    expect(Math.max(a, b)).toBeLessThanOrEqual(100);
    expect((await whoami(other.token)).status).toBe(200);
  });

  it('skips revocation entries of a kind it does not know and keeps following the stream', async () => {
    const { token } = await login(authUrl, 'alice', 'alice-password-123');
    const until = String(Date.now() + 60_000);
    await rawCommand(redis.port, [
      'XADD',
      'tessera:revocations',
      '*',
      'k',
      'zz',
      'uid',
      'alice',
      'until',
      until,
    ]);
    await rawCommand(redis.port, ['XADD', 'tessera:revocations', '*', 'k', 's']); // malformed: no fields
    expect((await whoami(token)).status).toBe(200);
    const session = await fetch(`${authUrl}/v1/logout`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}` },
    });
    expect(session.status).toBe(204);
    expect(await msUntil401(`${serviceUrl}/whoami`, token)).toBeLessThan(2000);
  });

  it('refuses tokens that are not Tessera access tokens: typ, alg, iss, aud, exp, signature', async () => {
    const { token, sessionId } = await login(authUrl, 'root', 'root-password-123');
    const claims = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString()) as Record<
      string,
      unknown
    >;
    const now = Math.floor(Date.now() / 1000);
    const forge = (header: Record<string, unknown>, changes: Record<string, unknown>) =>
      new SignJWT({ ...claims, ...changes })
        .setProtectedHeader({ alg: 'EdDSA', kid, typ: 'at+jwt', ...header } as { alg: string })
        .sign(signingKey);
    // the forger holds the real key: only the checks below stand between it and a 200
    expect((await whoami(await forge({}, {}))).status).toBe(200);
    const refusals: Array<[string, string, string]> = [
      ['typ JWT', await forge({ typ: 'JWT' }, {}), 'invalid_token'],
      ['no typ', await forge({ typ: undefined }, {}), 'invalid_token'],
      ['other issuer', await forge({}, { iss: 'http://evil.example' }), 'invalid_token'],
      ['other audience', await forge({}, { aud: 'another-api' }), 'invalid_token'],
      ['expired', await forge({}, { iat: now - 700, exp: now - 100 }), 'token_expired'],
      ['lifetime over the access TTL', await forge({}, { exp: now + 86_400 }), 'invalid_token'],
      ['unknown kid', await forge({ kid: 'nope' }, {}), 'invalid_token'],
      [
        'session of another user',
        await forge({}, { sid: sessionId.replace(/^[^.]+/, 'alice') }),
        'invalid_token',
      ],
    ];
    const [header, payload] = token.split('.');
    const none = `${Buffer.from(JSON.stringify({ alg: 'none', typ: 'at+jwt', kid })).toString('base64url')}.${payload}.`;
    const tampered = `${header}.${Buffer.from(JSON.stringify({ ...claims, roles: ['admin'] })).toString('base64url')}.${token.split('.')[2]}`;
    refusals.push(['alg none', none, 'invalid_token'], ['tampered payload', tampered, 'invalid_token']);
    for (const [what, forged, code] of refusals) {
      const response = await whoami(forged);
      expect(response.status, what).toBe(401);
      expect(await response.json(), what).toMatchObject({ code });
    }
    const bare = await whoami();
    expect(bare.status).toBe(401);
    expect(await bare.text()).not.toContain(token);
  });
});
