import { request } from 'node:http';
import { join } from 'node:path';
import type { SessionRecord } from '@tessera/core';
import { loadConfig, type ServerConfig } from '../config/env-config.ts';
import { CONTROL_SOCKET } from '../control-socket.ts';
import { openSessionStore } from '../resources.ts';
import { openUserStore } from '../users/user-service.ts';
import { normalizeUsername } from '../users/username.ts';
import { CliError, printLine } from './io.ts';

interface SessionLine {
  id: string;
  createdAt: string;
  lastSeenAt: string;
  expiresAt: string;
  ip: string;
  userAgent: string;
}

function printSessions(sessions: SessionLine[], username: string): void {
  if (sessions.length === 0) process.stderr.write(`no active sessions for ${username}\n`);
  for (const s of sessions) {
    printLine(
      [s.id, s.createdAt, s.lastSeenAt, s.expiresAt, s.ip || '-', JSON.stringify(s.userAgent)].join('\t'),
    );
  }
}

function fromRecord(r: SessionRecord): SessionLine {
  const iso = (ms: number) => new Date(ms).toISOString();
  return { ...r, createdAt: iso(r.createdAt), lastSeenAt: iso(r.lastSeenAt), expiresAt: iso(r.expiresAt) };
}

/** An answer from the running service: status and JSON body. */
interface AdminAnswer {
  status: number;
  json(): unknown;
}

/** Sends one request over the service's local control socket (Unix socket in the data dir). */
function requestOverSocket(socketPath: string, method: string, path: string): Promise<AdminAnswer> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath, method, path, timeout: 5000 }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        text += chunk;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, json: () => JSON.parse(text) as unknown }));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end();
  });
}

async function requestOverHttp(
  config: ServerConfig,
  adminToken: string,
  method: string,
  path: string,
): Promise<AdminAnswer> {
  try {
    const response = await fetch(`${config.authUrl}${path}`, {
      method,
      headers: { authorization: `Bearer ${adminToken}` },
      signal: AbortSignal.timeout(5000),
    });
    const text = await response.text();
    return { status: response.status, json: () => JSON.parse(text) as unknown };
  } catch {
    throw new CliError(
      `cannot reach the auth service at ${config.authUrl} (is it running? set TESSERA_AUTH_URL)`,
    );
  }
}

/**
 * Calls the running service's admin API (the in-memory store lives only inside it): over its
 * local control socket in the data dir when TESSERA_ADMIN_TOKEN is not set, else over HTTP.
 */
async function callAdmin(config: ServerConfig, method: string, path: string): Promise<AdminAnswer> {
  let answer: AdminAnswer;
  if (config.adminToken) {
    answer = await requestOverHttp(config, config.adminToken, method, path);
  } else {
    const socketPath = join(config.dataDir, CONTROL_SOCKET);
    try {
      answer = await requestOverSocket(socketPath, method, path);
    } catch {
      throw new CliError(
        `no running service found at ${socketPath}: the sessions live in the service's memory, so start it with this TESSERA_DATA_DIR, or set TESSERA_ADMIN_TOKEN and TESSERA_AUTH_URL to reach it over HTTP, or TESSERA_REDIS_URL to read Redis directly`,
      );
    }
  }
  if (answer.status === 404 && path.includes('/users/'))
    throw new CliError('no such user (or the admin API is off)');
  if (answer.status === 404) throw new CliError('no such session (or the admin API is off)');
  if (answer.status === 401) throw new CliError('the auth service refused TESSERA_ADMIN_TOKEN');
  if (answer.status < 200 || answer.status >= 300)
    throw new CliError(`the auth service answered ${answer.status}`);
  return answer;
}

async function withRedis<T>(
  config: ServerConfig,
  work: (store: Awaited<ReturnType<typeof openSessionStore>>['store']) => Promise<T>,
): Promise<T> {
  const { store } = await openSessionStore(config);
  try {
    await store.ping();
    return await work(store);
  } catch (error) {
    if ((error as { code?: string }).code === 'store_unavailable')
      throw new CliError('Redis cannot be reached');
    throw error;
  } finally {
    await store.close();
  }
}

async function resolveUserId(config: ServerConfig, username: string): Promise<string> {
  if (config.users === 'memory')
    throw new CliError('TESSERA_USERS=memory: users live inside the running service');
  const users = await openUserStore(config.users);
  try {
    const user = await users.findByUsername(normalizeUsername(username));
    if (!user) throw new CliError(`no such user: ${username}`);
    return user.id;
  } finally {
    await users.close();
  }
}

/** `tessera sessions list --user <username>`. */
export async function runSessionsList(username: string): Promise<void> {
  const config = loadConfig();
  if (!config.redis) {
    const response = await callAdmin(
      config,
      'GET',
      `/v1/admin/users/${encodeURIComponent(username)}/sessions`,
    );
    const body = response.json() as { sessions: SessionLine[] };
    return printSessions(body.sessions, username);
  }
  const userId = await resolveUserId(config, username);
  const sessions = await withRedis(config, (store) => store.listUserSessions(userId, Date.now()));
  printSessions(sessions.map(fromRecord), username);
}

/** `tessera sessions revoke <sessionId>` or `--user <username>`. */
export async function runSessionsRevoke(
  sessionId: string | undefined,
  username: string | undefined,
): Promise<void> {
  const config = loadConfig();
  if (!config.redis) {
    const path = username
      ? `/v1/admin/users/${encodeURIComponent(username)}/sessions`
      : `/v1/admin/sessions/${encodeURIComponent(sessionId ?? '')}`;
    await callAdmin(config, 'DELETE', path);
    return printLine(username ? `revoked every session of ${username}` : `revoked ${sessionId}`);
  }
  if (username) {
    const userId = await resolveUserId(config, username);
    const { count } = await withRedis(config, (store) => store.revokeUserSessions(userId, Date.now()));
    return printLine(`revoked ${count} session(s) of ${username}`);
  }
  const revoked = await withRedis(config, (store) => store.revokeSession(sessionId ?? '', Date.now()));
  if (!revoked) throw new CliError('no such session');
  printLine(`revoked ${sessionId}`);
}
