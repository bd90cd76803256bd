import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import {
  type Clock,
  connectRedis,
  createRedisClient,
  createRedisStore,
  type KeyRing,
  type SessionStore,
} from '@tessera/core';
import { buildAuthServer, loadConfig, type PasswordParams } from '@tessera/server';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';

export const ADMIN_TOKEN = 'admin-token-for-tests-0123456789';
/** Cheap argon2id parameters so tests run fast (production uses OWASP's). */
export const TEST_PASSWORD_PARAMS: PasswordParams = { memoryCost: 1024, timeCost: 1, parallelism: 1 };

export interface TestApp {
  app: FastifyInstance;
  /** Every log line written so far. */
  logs: string[];
  close(): Promise<void>;
  /** Creates a user through the admin API; returns its id. */
  addUser(username: string, password: string, roles?: string[]): Promise<string>;
  login(
    username: string,
    password: string,
    headers?: Record<string, string>,
  ): Promise<LightMyRequestResponse>;
}

/** An in-process auth service with memory users, a temp data dir and captured logs. */
export async function createTestApp(
  env: Record<string, string> = {},
  options: { store?: SessionStore; passwordParams?: PasswordParams; clock?: Clock; keys?: KeyRing } = {},
): Promise<TestApp> {
  const dataDir = mkdtempSync(join(tmpdir(), 'tessera-server-'));
  const logs: string[] = [];
  const logStream = new Writable({
    write(chunk, _enc, done) {
      logs.push(...String(chunk).split('\n').filter(Boolean));
      done();
    },
  });
  const config = loadConfig({
    PORT: '0',
    TESSERA_DATA_DIR: dataDir,
    TESSERA_USERS: 'memory',
    TESSERA_ADMIN_TOKEN: ADMIN_TOKEN,
    TESSERA_COOKIE_SECURE: 'false',
    TESSERA_ISSUER: 'http://auth.test',
    ...env,
  });
  const app = await buildAuthServer(config, {
    logStream,
    passwordParams: options.passwordParams ?? TEST_PASSWORD_PARAMS,
    ...(options.store ? { store: options.store } : {}),
    ...(options.clock ? { clock: options.clock } : {}),
    ...(options.keys ? { keys: options.keys } : {}),
  });
  return {
    app,
    logs,
    async close() {
      await app.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
    async addUser(username, password, roles = []) {
      const res = await app.inject({
        method: 'POST',
        url: '/v1/admin/users',
        headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
        payload: { username, password, roles },
      });
      if (res.statusCode !== 201) throw new Error(`addUser: ${res.statusCode} ${res.body}`);
      return (res.json() as { id: string }).id;
    },
    login(username, password, headers = {}) {
      return app.inject({ method: 'POST', url: '/v1/login', headers, payload: { username, password } });
    },
  };
}

/** A Redis session store on `redisUrl` with its own key prefix (random unless given), so tests can share one server. */
export async function createTestRedisStore(redisUrl: string, keyPrefix?: string): Promise<SessionStore> {
  const client = createRedisClient({ kind: 'single', url: redisUrl });
  await connectRedis(client);
  return createRedisStore({
    client,
    keyPrefix: keyPrefix ?? `t${Math.random().toString(36).slice(2, 8)}:`,
    revocationRetentionMs: 700_000,
  });
}
