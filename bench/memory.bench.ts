// Memory per session in Redis at every point of a session's life, with real browser User-Agents:
// after login, after one refresh, after three refreshes, the same once the grace window has
// passed (the sealed successor `sc:<sid>` lives for the grace window + 1 s after each refresh),
// and after 33 refreshes (32 older generations in `o:<sid>`, its cap) (jwt mode, through the
// auth service's HTTP API), and after login and after a touch (opaque mode; the touch is the store's
// touchSession, the script the guard calls). Per point: the bytes of every key that holds the
// user id (`MEMORY USAGE` of the session hashes and the per-user index) per session, the growth
// of Redis `used_memory` per session (dictionary overhead included), the session hashes'
// encodings (a value longer than `hash-max-listpack-value`, 64 bytes by default, turns a hash
// into a hashtable, about 3× the size) and which fields are longer than that.
// Run twice: Redis defaults, and hash-max-listpack-value 512 (a setting operators can choose).
// Sessions: BENCH_MEMORY_SESSIONS (default 100: 4 users × 25, logins pay argon2id).
import { connectRedis, createRedisClient, createRedisStore } from '@tessera/core';
import { BROWSER_USER_AGENTS, startRedis } from '@tessera/testkit';
import { Redis } from 'ioredis';
import type { ChildService } from './lib/process.ts';
import { addUser, BENCH_PASSWORD, startAuthService } from './lib/stack.ts';

const SESSIONS = Number(process.env.BENCH_MEMORY_SESSIONS ?? 100);
/** 4 users × 25 sessions by default: the per-user index shared as in the measurement. */
const USERS = 4;
const LISTPACK_VALUE_DEFAULT = 64;
/** The auth service's refresh grace window (TESSERA_REFRESH_GRACE, default 10 s). */
const GRACE_MS = 10_000;

export interface LifePoint {
  point: string;
  sessions: number;
  /** Σ MEMORY USAGE of every key holding a bench user id ÷ sessions. */
  keyBytesPerSession: number;
  /** Of which the session hashes alone. */
  hashBytesPerSession: number;
  /** Growth of Redis used_memory since before the first login ÷ sessions. */
  usedMemoryPerSession: number;
  encodings: Record<string, number>;
  /** Fields longer than hash-max-listpack-value, with their longest length. */
  longFields: Record<string, number>;
  keysPerUser: number;
  /** Bytes of the keys that hold no bench user id, by key shape. */
  otherKeyBytes: Record<string, number>;
  /** Σ MEMORY USAGE ÷ sessions by key kind: `s` (hashes), `idx`, `sc`, `o`. */
  byKind: Record<string, number>;
}

/** The kind of a user key: the part after `{u:<id>}:` up to its first `:` (`s`, `sc`, `o`, `idx`). */
const kindOf = (key: string) => /\}:([a-z]+)/.exec(key)?.[1] ?? '?';

async function measure(
  redis: Redis,
  point: string,
  userIds: Set<string>,
  baseline: number,
  limit: number,
): Promise<LifePoint> {
  let keyBytes = 0;
  let hashBytes = 0;
  let hashes = 0;
  let keys = 0;
  const encodings: Record<string, number> = {};
  const longFields: Record<string, number> = {};
  const kinds: Record<string, number> = {};
  for (const userId of userIds) {
    const found = await redis.keys(`*{u:${userId}}*`);
    keys += found.length;
    for (const key of found) {
      const bytes = Number(await redis.memory('USAGE', key, 'SAMPLES', 0));
      keyBytes += bytes;
      kinds[kindOf(key)] = (kinds[kindOf(key)] ?? 0) + bytes;
      if ((await redis.type(key)) !== 'hash') continue;
      hashes++;
      hashBytes += bytes;
      const encoding = String(await redis.object('ENCODING', key));
      encodings[encoding] = (encodings[encoding] ?? 0) + 1;
      for (const [field, value] of Object.entries(await redis.hgetall(key))) {
        const length = Buffer.byteLength(value);
        if (length > limit) longFields[field] = Math.max(longFields[field] ?? 0, length);
      }
    }
  }
  const info = await redis.info('memory');
  const used = Number(/used_memory:(\d+)/.exec(info)?.[1] ?? 0);
  // Every other key, by kind (rate-limit windows, the revocation stream, the warm-up user's).
  const others: Record<string, number> = {};
  for (const key of await redis.keys('*')) {
    if ([...userIds].some((id) => key.includes(`{u:${id}}`))) continue;
    const kind = key.replace(/\{[^}]*\}.*$/, '{…}');
    others[kind] = (others[kind] ?? 0) + Number(await redis.memory('USAGE', key, 'SAMPLES', 0));
  }
  const result = {
    point,
    sessions: hashes,
    keyBytesPerSession: Math.round(keyBytes / Math.max(1, hashes)),
    hashBytesPerSession: Math.round(hashBytes / Math.max(1, hashes)),
    usedMemoryPerSession: Math.round((used - baseline) / Math.max(1, hashes)),
    encodings,
    longFields,
    keysPerUser: Math.round((keys / Math.max(1, userIds.size)) * 10) / 10,
    otherKeyBytes: others,
    byKind: Object.fromEntries(
      Object.entries(kinds).map(([kind, bytes]) => [kind, Math.round(bytes / Math.max(1, hashes))]),
    ),
  };
  console.log(
    `  ${point.padEnd(34)} keys ${result.keyBytesPerSession} B/session (${JSON.stringify(result.byKind)}), used_memory +${result.usedMemoryPerSession} B/session, ${JSON.stringify(encodings)}, long fields ${JSON.stringify(longFields)}, other keys ${JSON.stringify(others)}`,
  );
  return result;
}

async function login(url: string, user: string, userAgent: string) {
  const response = await fetch(`${url}/v1/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'user-agent': userAgent },
    body: JSON.stringify({ username: user, password: BENCH_PASSWORD }),
  });
  if (!response.ok) throw new Error(`login failed: ${response.status}`);
  return (await response.json()) as { refreshToken?: string; session: { id: string } };
}

async function refresh(url: string, token: string, userAgent: string): Promise<string> {
  const response = await fetch(`${url}/v1/refresh`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'user-agent': userAgent },
    body: JSON.stringify({ refreshToken: token }),
  });
  if (!response.ok) throw new Error(`refresh failed: ${response.status}`);
  return ((await response.json()) as { refreshToken: string }).refreshToken;
}

async function lifeOf(listpackValue: number, userAgents: readonly string[]): Promise<LifePoint[]> {
  const server = await startRedis();
  const redis = new Redis(server.url);
  const services: ChildService[] = [];
  try {
    await redis.config('SET', 'hash-max-listpack-value', String(listpackValue));
    const jwt = await startAuthService(server, { TESSERA_REFRESH_GRACE: `${GRACE_MS / 1000}s` });
    const opaque = await startAuthService(server, { TESSERA_TOKEN_MODE: 'opaque' });
    services.push(jwt, opaque);
    for (let u = 0; u < USERS; u++) {
      await addUser(jwt.url, `mem${u}`, ['user']);
      await addUser(opaque.url, `mem${u}`, ['user']);
    }
    const ua = (i: number) => userAgents[i % userAgents.length] as string;
    const points: LifePoint[] = [];
    // jwt mode: login, then refreshes. One warm-up login and refresh per service first, so
    // the baseline already holds the scripts and connection buffers (not per-session memory).
    await addUser(jwt.url, 'warm', ['user']);
    await addUser(opaque.url, 'warm', ['user']);
    await refresh(jwt.url, (await login(jwt.url, 'warm', ua(0))).refreshToken as string, ua(0));
    await login(opaque.url, 'warm', ua(0));
    const base = Number(/used_memory:(\d+)/.exec(await redis.info('memory'))?.[1] ?? 0);
    const tokens: string[] = [];
    const users = new Set<string>();
    const userOf = (sessionId: string) => sessionId.slice(0, sessionId.indexOf('.'));
    for (let i = 0; i < SESSIONS; i++) {
      const issued = await login(jwt.url, `mem${i % USERS}`, ua(i));
      users.add(userOf(issued.session.id));
      tokens.push(issued.refreshToken as string);
    }
    points.push(await measure(redis, 'jwt: after login', users, base, listpackValue));
    const refreshAll = async () => {
      for (let i = 0; i < tokens.length; i++) tokens[i] = await refresh(jwt.url, tokens[i] as string, ua(i));
    };
    const at = (point: string) => measure(redis, point, users, base, listpackValue);
    await refreshAll();
    points.push(await at('jwt: after 1 refresh'));
    await refreshAll();
    await refreshAll();
    points.push(await at('jwt: after 3 refreshes'));
    // The sealed successors expire GRACE_MS + 1 s after their refresh.
    await new Promise((resolve) => setTimeout(resolve, GRACE_MS + 1_500));
    points.push(await at('jwt: after 3 refreshes, grace over'));
    for (let round = 4; round <= 33; round++) await refreshAll();
    points.push(await at('jwt: after 33 refreshes'));
    for (const userId of users) {
      const found = await redis.keys(`*{u:${userId}}*`);
      if (found.length > 0) await redis.del(...found);
    }
    // opaque mode: login, then a touch of each session.
    const base2 = Number(/used_memory:(\d+)/.exec(await redis.info('memory'))?.[1] ?? 0);
    const ids: string[] = [];
    const opaqueUsers = new Set<string>();
    for (let i = 0; i < SESSIONS; i++) {
      const id = (await login(opaque.url, `mem${i % USERS}`, ua(i))).session.id;
      ids.push(id);
      opaqueUsers.add(userOf(id));
    }
    points.push(await measure(redis, 'opaque: after login', opaqueUsers, base2, listpackValue));
    const client = createRedisClient({ kind: 'single', url: server.url });
    await connectRedis(client);
    const store = createRedisStore({ client, revocationRetentionMs: 660_000 });
    try {
      const now = Date.now() + 120_000;
      for (const id of ids) await store.touchSession(id, now, 86_400_000, 0);
    } finally {
      await store.close();
    }
    points.push(await measure(redis, 'opaque: after a touch', opaqueUsers, base2, listpackValue));
    return points;
  } finally {
    for (const service of services) await service.stop();
    redis.disconnect();
    await server.stop();
  }
}

/**
 * What the account page needs of those User-Agents (browser and OS), as a proposal would store
 * them: sent as the User-Agent header here, so the stored value is that short form and the
 * measurement shows what storing it parsed would save (the service stores the header as is).
 */
export const SHORT_USER_AGENTS = [
  'Chrome 131 on Windows',
  'Safari 18.1 on macOS',
  'Firefox 133 on Linux',
  'Edge 131 on Windows',
  'Mobile Safari 18.1 on iOS',
  'Chrome Mobile 131 on Android',
];

export async function runMemoryBench() {
  console.log(
    `  real browser User-Agents, Redis defaults (hash-max-listpack-value ${LISTPACK_VALUE_DEFAULT})`,
  );
  const defaults = await lifeOf(LISTPACK_VALUE_DEFAULT, BROWSER_USER_AGENTS);
  console.log('  real browser User-Agents, hash-max-listpack-value 512');
  const raised = await lifeOf(512, BROWSER_USER_AGENTS);
  console.log(`  short User-Agents (browser on OS), Redis defaults`);
  const shortUa = await lifeOf(LISTPACK_VALUE_DEFAULT, SHORT_USER_AGENTS);
  return {
    sessions: SESSIONS,
    users: USERS,
    userAgents: BROWSER_USER_AGENTS,
    shortUserAgents: SHORT_USER_AGENTS,
    defaults,
    raised,
    shortUa,
  };
}
