import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type RedisServer, startRedis } from '@tessera/testkit';
import { TEST_PASSWORD_PARAMS } from '@tessera/testkit/auth-service';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildAuthServer } from '../app.ts';
import { loadConfig } from '../config/env-config.ts';
import { runCli } from './run-cli.ts';

const PASSWORD = 'correct horse battery';

describe('CLI against Redis and the data dir (no running service needed)', () => {
  let redis: RedisServer;
  let dataDir: string;
  let env: Record<string, string>;
  let app: FastifyInstance;

  beforeAll(async () => {
    redis = await startRedis();
    dataDir = mkdtempSync(join(tmpdir(), 'tessera-cli-'));
    env = { TESSERA_DATA_DIR: dataDir, TESSERA_REDIS_URL: redis.url, TESSERA_ADMIN_TOKEN: '' };
    app = await buildAuthServer(loadConfig({ ...env, LOG_LEVEL: 'silent' }), {
      passwordParams: TEST_PASSWORD_PARAMS,
    });
  });
  afterAll(async () => {
    await app?.close();
    await redis?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  const CHROME =
    'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36';
  const login = async (userAgent = 'cli-test') =>
    (
      await app.inject({
        method: 'POST',
        url: '/v1/login',
        headers: { 'user-agent': userAgent },
        payload: { username: 'carol', password: PASSWORD },
      })
    ).json() as { accessToken: string; session: { id: string } };

  it('user add is seen by the service at once; sessions list/revoke work on Redis directly', async () => {
    const added = await runCli(['user', 'add', 'Carol', '--roles', 'a,b', '--password-stdin'], env, PASSWORD);
    expect(added.code).toBe(0);
    const a = await login();
    // A browser's User-Agent is stored compactly in Redis (docs/redis-layout.md) and read back as sent.
    const b = await login(CHROME);
    expect(a.session).toBeDefined();
    const own = await app.inject({
      url: '/v1/sessions',
      headers: { authorization: `Bearer ${a.accessToken}` },
    });
    expect(
      (own.json() as { sessions: Array<{ userAgent: string }> }).sessions.map((s) => s.userAgent),
    ).toEqual(['cli-test', CHROME]);
    const listed = await runCli(['sessions', 'list', '--user', 'carol'], env);
    expect(listed.code).toBe(0);
    const lines = listed.stdout.trim().split('\n');
    expect(lines).toHaveLength(2);
    const fields = lines[0]?.split('\t') ?? [];
    expect(fields).toHaveLength(6);
    expect(fields[0]).toBe(a.session.id);
    expect(fields[4]).toBe('127.0.0.1');
    expect(fields[5]).toBe('"cli-test"');
    expect(lines[1]?.split('\t')[5]).toBe(JSON.stringify(CHROME));

    expect((await runCli(['sessions', 'revoke', a.session.id], env)).code).toBe(0);
    expect(
      (await app.inject({ url: '/v1/session', headers: { authorization: `Bearer ${a.accessToken}` } }))
        .statusCode,
    ).toBe(401);
    expect((await runCli(['sessions', 'revoke', a.session.id], env)).code).toBe(1);
    expect((await runCli(['sessions', 'revoke', '--user', 'carol'], env)).code).toBe(0);
    expect(
      (await app.inject({ url: '/v1/session', headers: { authorization: `Bearer ${b.accessToken}` } }))
        .statusCode,
    ).toBe(401);
    const unknown = await runCli(['sessions', 'list', '--user', 'nobody'], env);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('no such user');
  });
});
