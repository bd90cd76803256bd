import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { ERROR_CODES as CORE_ERROR_CODES, ManualClock } from '@tessera/core';
import { buildAuthServer, loadConfig } from '@tessera/server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTesseraClient } from './client.ts';
import { ERROR_CODES } from './errors.ts';

const ADMIN = 'admin-token-for-client-tests-0123';

describe('@tessera/client against a real auth service', () => {
  let app: Awaited<ReturnType<typeof buildAuthServer>>;
  let authUrl: string;
  let dataDir: string;
  const clock = new ManualClock(Date.now());

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'tessera-client-'));
    const config = loadConfig({
      PORT: '0',
      TESSERA_DATA_DIR: dataDir,
      TESSERA_USERS: 'memory',
      TESSERA_ADMIN_TOKEN: ADMIN,
      TESSERA_ACCESS_TTL: '1m',
    });
    app = await buildAuthServer(config, {
      clock,
      passwordParams: { memoryCost: 1024, timeCost: 1, parallelism: 1 },
      logStream: new Writable({ write: (_c, _e, done) => done() }),
    });
    authUrl = await app.listen({ port: 0, host: '127.0.0.1' });
    const created = await fetch(`${authUrl}/v1/admin/users`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'alice', password: 'alice-password-1', roles: ['user'] }),
    });
    expect(created.status).toBe(201);
  });

  afterAll(async () => {
    await app.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('logs in with bearer transfer and reads its session', async () => {
    const client = createTesseraClient({ authUrl });
    const session = await client.login('alice', 'alice-password-1');
    expect(session.roles).toEqual(['user']);
    const me = await client.session();
    expect(me.user.username).toBe('alice');
    expect(me.session.id).toBe(session.id);
  });

  it('shares one refresh call between concurrent callers', async () => {
    let refreshCalls = 0;
    const counting: typeof fetch = (input, init) => {
      if (String(input).endsWith('/v1/refresh')) refreshCalls++;
      return fetch(input, init);
    };
    const client = createTesseraClient({ authUrl, fetch: counting });
    await client.login('alice', 'alice-password-1');
    const results = await Promise.all(Array.from({ length: 5 }, () => client.refresh()));
    expect(refreshCalls).toBe(1);
    expect(new Set(results.map((s) => s.id)).size).toBe(1);
    await expect(client.session()).resolves.toBeTruthy();
  });

  it('refreshes once and retries when the access token has expired', async () => {
    const client = createTesseraClient({ authUrl });
    await client.login('alice', 'alice-password-1');
    const before = client.accessToken;
    clock.advance(2 * 60_000);
    const response = await client.fetch(`${authUrl}/v1/session`);
    expect(response.status).toBe(200);
    expect(client.accessToken).not.toBe(before);
  });

  it('surfaces problem+json codes and ends the session on logout', async () => {
    const client = createTesseraClient({ authUrl });
    await expect(client.login('alice', 'wrong-password-1')).rejects.toMatchObject({
      status: 401,
      code: 'invalid_credentials',
    });
    await client.login('alice', 'alice-password-1');
    const token = client.accessToken;
    await client.logout();
    const after = await fetch(`${authUrl}/v1/session`, { headers: { authorization: `Bearer ${token}` } });
    expect(after.status).toBe(401);
  });

  it('reports an unreachable auth service as network_error', async () => {
    const client = createTesseraClient({ authUrl: 'http://127.0.0.1:1' });
    await expect(client.login('a', 'b')).rejects.toMatchObject({ code: 'network_error' });
  });
});

describe('error codes', () => {
  it('the client knows exactly the codes of @tessera/core', () => {
    expect([...ERROR_CODES]).toEqual([...CORE_ERROR_CODES]);
  });
});
