import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '@tessera/testkit';
import { generateKeyPair, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../cli/run-cli.ts';
import { type AuthProcess, startAuthProcess } from './testing/auth-process.ts';
import { waitFor } from './testing/set-receiver.ts';

/** examples/python-ssf-receiver: a Python service (Debian python3 + python3-jwcrypto only). */
const PYTHON = '/usr/bin/python3';
const SCRIPT = join(REPO_ROOT, 'examples/python-ssf-receiver/receiver.py');
const ADMIN = 'admin-token-for-python-ssf-0123456789';
const available = spawnSync(PYTHON, ['-c', 'import jwcrypto'], { stdio: 'ignore' }).status === 0;
if (!available)
  console.warn(
    `skipped: ${PYTHON} with the jwcrypto module (Debian: apt install python3-jwcrypto) is missing`,
  );

let dataDir: string;
let auth: AuthProcess;
let authUrl: string;
let python: ChildProcess;
let pythonUrl: string;
let pythonOutput = '';

async function startPython(port: number): Promise<void> {
  python = spawn(PYTHON, [SCRIPT], {
    env: {
      PATH: process.env.PATH ?? '',
      TESSERA_AUTH_URL: authUrl,
      TESSERA_ADMIN_TOKEN: ADMIN,
      PORT: String(port),
      HOST: '127.0.0.1',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const collect = (d: Buffer) => {
    pythonOutput += d;
  };
  python.stdout?.on('data', collect);
  python.stderr?.on('data', collect);
  await waitFor(
    () => pythonOutput.includes('listening on') || python.exitCode !== null,
    10_000,
    'python receiver',
  );
  if (python.exitCode !== null) throw new Error(`python receiver exited:\n${pythonOutput}`);
}

async function login(): Promise<{ accessToken: string; session: { id: string } }> {
  const res = await fetch(`${authUrl}/v1/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username: 'alice', password: 'password-123' }),
  });
  expect(res.status).toBe(200);
  return (await res.json()) as { accessToken: string; session: { id: string } };
}

const whoami = async (token: string) =>
  (await fetch(`${pythonUrl}/whoami`, { headers: { authorization: `Bearer ${token}` } })).status;

describe.skipIf(!available)('Python SSF receiver example (examples/python-ssf-receiver)', () => {
  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'tessera-py-ssf-'));
    const port = await freePort();
    authUrl = `http://127.0.0.1:${port}`;
    auth = await startAuthProcess({
      PORT: String(port),
      HOST: '127.0.0.1',
      TESSERA_DATA_DIR: dataDir,
      TESSERA_USERS: 'memory',
      TESSERA_ADMIN_TOKEN: ADMIN,
      TESSERA_COOKIE_SECURE: 'false',
      LOG_LEVEL: 'warn',
    });
    const created = await fetch(`${authUrl}/v1/admin/users`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'alice', password: 'password-123', roles: [] }),
    });
    expect(created.status).toBe(201);
    const pyPort = await freePort();
    pythonUrl = `http://127.0.0.1:${pyPort}`;
    await startPython(pyPort);
  }, 60_000);

  afterAll(async () => {
    if (python && python.exitCode === null) python.kill('SIGKILL');
    await auth?.stop();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  it('registers a push stream, verifies the SETs against the JWKS and refuses the sessions they name', async () => {
    const streams = await fetch(`${authUrl}/v1/ssf/streams`, {
      headers: { authorization: `Bearer ${ADMIN}` },
    });
    expect((await streams.json()) as unknown[]).toHaveLength(1);
    const phone = await login();
    const laptop = await login();
    expect(await whoami(phone.accessToken)).toBe(200);
    expect(await whoami(laptop.accessToken)).toBe(200);
    const out = await fetch(`${authUrl}/v1/logout`, {
      method: 'POST',
      headers: { authorization: `Bearer ${phone.accessToken}` },
    });
    expect(out.status).toBe(204);
    const started = Date.now();
    await waitFor(
      async () => (await whoami(phone.accessToken)) === 401,
      2000,
      'python refuses the revoked session',
    );
    console.log(`logout → refused by the Python service: ${Date.now() - started} ms`);
    expect(await whoami(laptop.accessToken)).toBe(200);
  });

  it('refuses a SET that does not verify with the JWKS (RFC 8935 invalid_key)', async () => {
    const rogue = await generateKeyPair('EdDSA');
    const jwks = (await (await fetch(`${authUrl}/.well-known/jwks.json`)).json()) as {
      keys: Array<{ kid: string }>;
    };
    const forged = await new SignJWT({
      jti: 'forged-1',
      iat: Math.floor(Date.now() / 1000),
      events: { 'https://schemas.openid.net/secevent/caep/event-type/session-revoked': {} },
    })
      .setProtectedHeader({ alg: 'EdDSA', kid: jwks.keys[0]?.kid ?? '', typ: 'secevent+jwt' })
      .setIssuer(authUrl)
      .sign(rogue.privateKey);
    const res = await fetch(`${pythonUrl}/ssf/events`, {
      method: 'POST',
      headers: { 'content-type': 'application/secevent+jwt' },
      body: forged,
    });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { err: string }).err).toBe('invalid_key');
  });

  it('removes its stream when stopped', async () => {
    python.kill('SIGTERM');
    await waitFor(() => python.exitCode !== null || python.signalCode !== null, 10_000, 'python exits');
    const streams = await fetch(`${authUrl}/v1/ssf/streams`, {
      headers: { authorization: `Bearer ${ADMIN}` },
    });
    expect(await streams.json()).toEqual([]);
  });
});
