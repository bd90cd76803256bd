import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, type RedisServer } from '@tessera/testkit';
import { type ChildService, startChild } from './process.ts';

export const BENCH_ADMIN_TOKEN = 'bench-admin-token-0123456789abcdef';
export const BENCH_PASSWORD = 'bench password 1234';

/** An auth service child process on Redis, with the admin API on and login rate limits out of the way. */
export async function startAuthService(
  redis: RedisServer,
  env: Record<string, string> = {},
): Promise<ChildService> {
  const port = await freePort();
  return startChild(
    ['packages/server/bin/tessera.cjs', 'serve'],
    {
      PORT: String(port),
      TESSERA_REDIS_URL: redis.url,
      TESSERA_DATA_DIR: mkdtempSync(join(tmpdir(), 'tessera-bench-')),
      TESSERA_USERS: 'memory',
      TESSERA_ADMIN_TOKEN: BENCH_ADMIN_TOKEN,
      TESSERA_LOGIN_RATE_USER: '1000000',
      TESSERA_LOGIN_RATE_IP: '1000000',
      ...env,
    },
    `http://127.0.0.1:${port}`,
    '/readyz',
  );
}

export async function addUser(authUrl: string, username: string, roles: string[]): Promise<void> {
  const response = await fetch(`${authUrl}/v1/admin/users`, {
    method: 'POST',
    headers: { authorization: `Bearer ${BENCH_ADMIN_TOKEN}`, 'content-type': 'application/json' },
    body: JSON.stringify({ username, password: BENCH_PASSWORD, roles }),
  });
  if (response.status !== 201 && response.status !== 409)
    throw new Error(`could not create user: ${response.status}`);
}

export interface LoggedIn {
  accessToken: string;
  refreshToken?: string;
  sessionId: string;
}

export async function loginUser(authUrl: string, username: string): Promise<LoggedIn> {
  const response = await fetch(`${authUrl}/v1/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username, password: BENCH_PASSWORD }),
  });
  if (!response.ok) throw new Error(`login failed: ${response.status}`);
  const body = (await response.json()) as {
    accessToken: string;
    refreshToken?: string;
    session: { id: string };
  };
  return {
    accessToken: body.accessToken,
    ...(body.refreshToken ? { refreshToken: body.refreshToken } : {}),
    sessionId: body.session.id,
  };
}

/** Starts a TypeScript entry point (example service or bench server) and waits until it answers HTTP. */
export async function startTsService(file: string, env: Record<string, string>): Promise<ChildService> {
  const port = await freePort();
  return startChild(
    ['--import', 'tsx', file],
    { PORT: String(port), ...env },
    `http://127.0.0.1:${port}`,
    '/whoami',
  );
}
