import { Cluster, Redis, type RedisOptions, ReplyError } from 'ioredis';

/** Where Redis is: one server, a cluster (seed nodes), or sentinels + master name. */
export type RedisConnectionConfig =
  | { kind: 'single'; url: string }
  | {
      kind: 'cluster';
      nodes: Array<{ host: string; port: number }>;
      /** Credentials and TLS for every node (from a `redis[s]://user:pass@host:port` seed). */
      auth?: { username?: string; password?: string; tls: boolean };
    }
  | { kind: 'sentinel'; sentinels: Array<{ host: string; port: number }>; name: string };

export type RedisClient = Redis | Cluster;

/** Client options that fail fast instead of queueing: no unbounded in-memory command queue. */
const FAIL_FAST: RedisOptions = {
  enableOfflineQueue: false,
  maxRetriesPerRequest: 1,
  commandTimeout: 2000,
  connectTimeout: 2000,
  lazyConnect: true,
  retryStrategy: (times) => Math.min(50 * 2 ** Math.min(times, 5), 1000),
};

function parseHostPort(item: string, variable: string): { host: string; port: number } {
  const match = /^\s*\[?([^\]\s]+?)\]?:(\d{1,5})\s*$/.exec(item);
  const port = Number(match?.[2]);
  if (!match?.[1] || !Number.isInteger(port) || port < 1 || port > 65535) {
    throw new TypeError(`${variable}: expected comma-separated host:port entries, got "${item}"`);
  }
  return { host: match[1], port };
}

/**
 * A cluster seed: `host:port`, or a `redis://` / `rediss://` URL whose user, password and TLS
 * apply to every node (`rediss://tessera-guard:secret@10.0.0.1:6379,10.0.0.2:6379`).
 */
function parseSeed(
  item: string,
  variable: string,
): { host: string; port: number; auth?: { username?: string; password?: string; tls: boolean } } {
  const trimmed = item.trim();
  if (!/^rediss?:\/\//.test(trimmed)) return parseHostPort(trimmed, variable);
  let url: URL;
  try {
    url = new URL(trimmed);
  } catch {
    throw new TypeError(`${variable}: expected host:port or redis[s]://[user:password@]host:port entries`);
  }
  const { host, port } = parseHostPort(`${url.hostname}:${url.port || '6379'}`, variable);
  const auth: { username?: string; password?: string; tls: boolean } = { tls: url.protocol === 'rediss:' };
  if (url.username) auth.username = decodeURIComponent(url.username);
  if (url.password) auth.password = decodeURIComponent(url.password);
  return { host, port, auth };
}

/**
 * Reads `TESSERA_REDIS_URL`, `TESSERA_REDIS_CLUSTER`, `TESSERA_REDIS_SENTINELS` +
 * `TESSERA_REDIS_SENTINEL_NAME`. Returns `null` when none is set (in-memory store).
 * Throws `TypeError` naming the variable on a malformed value.
 */
export function redisConfigFromEnv(env: NodeJS.ProcessEnv = process.env): RedisConnectionConfig | null {
  const cluster = env.TESSERA_REDIS_CLUSTER?.trim();
  if (cluster) {
    const seeds = cluster.split(',').map((s) => parseSeed(s, 'TESSERA_REDIS_CLUSTER'));
    const withAuth = seeds.find((seed) => seed.auth !== undefined)?.auth;
    return {
      kind: 'cluster',
      nodes: seeds.map(({ host, port }) => ({ host, port })),
      ...(withAuth ? { auth: withAuth } : {}),
    };
  }
  const sentinels = env.TESSERA_REDIS_SENTINELS?.trim();
  if (sentinels) {
    const name = env.TESSERA_REDIS_SENTINEL_NAME?.trim();
    if (!name)
      throw new TypeError(
        'TESSERA_REDIS_SENTINEL_NAME: expected the master name when TESSERA_REDIS_SENTINELS is set',
      );
    return {
      kind: 'sentinel',
      sentinels: sentinels.split(',').map((s) => parseHostPort(s, 'TESSERA_REDIS_SENTINELS')),
      name,
    };
  }
  const url = env.TESSERA_REDIS_URL?.trim();
  if (url) {
    if (!/^rediss?:\/\/[^\s]+$/.test(url)) {
      throw new TypeError('TESSERA_REDIS_URL: expected a redis:// or rediss:// URL');
    }
    return { kind: 'single', url };
  }
  return null;
}

/**
 * Creates a client (not yet connected: call `connectRedis`). Commands fail at once while
 * disconnected (the caller turns that into `StoreUnavailableError`), and reconnection
 * continues in the background with a capped backoff.
 */
export function createRedisClient(config: RedisConnectionConfig, overrides: RedisOptions = {}): RedisClient {
  const options: RedisOptions = { ...FAIL_FAST, ...overrides };
  switch (config.kind) {
    case 'single':
      return new Redis(config.url, options);
    case 'sentinel':
      return new Redis({ ...options, sentinels: config.sentinels, name: config.name });
    case 'cluster': {
      const auth = config.auth;
      const credentials: RedisOptions = {};
      if (auth?.username !== undefined) credentials.username = auth.username;
      if (auth?.password !== undefined) credentials.password = auth.password;
      if (auth?.tls) credentials.tls = {};
      return new Cluster(config.nodes, {
        enableOfflineQueue: false,
        lazyConnect: true,
        clusterRetryStrategy: (times) => Math.min(100 * times, 1000),
        redisOptions: { ...credentials, ...options },
      });
    }
  }
}

/** Connects and waits until the client is ready; rejects after `timeoutMs`. */
export async function connectRedis(client: RedisClient, timeoutMs = 5000): Promise<void> {
  if (client.status === 'ready') return;
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error('redis connect timeout')), timeoutMs);
  });
  try {
    await Promise.race([client.connect(), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Waits until `client` is ready: connects a lazy client (`status === 'wait'`), otherwise waits
 * for its `ready` event (a client someone else created may already be connecting).
 * Rejects after `timeoutMs` with a message that names no address and carries no Redis text.
 */
export async function waitUntilReady(client: RedisClient, timeoutMs = 5000): Promise<void> {
  if (client.status === 'ready') return;
  let timer: NodeJS.Timeout | undefined;
  let onReady: (() => void) | undefined;
  try {
    await new Promise<void>((resolve, reject) => {
      timer = setTimeout(
        () => reject(new Error('Redis is not reachable (TESSERA_REDIS_URL / _CLUSTER / _SENTINELS)')),
        timeoutMs,
      );
      onReady = resolve;
      client.once('ready', onReady);
      if (client.status === 'wait') client.connect().catch(() => {});
    });
  } finally {
    clearTimeout(timer);
    if (onReady) client.off('ready', onReady);
  }
}

/** The caller's client (left open on close), or a new fail-fast one the caller owns. */
export function openRedisClient(redis: RedisClient | RedisConnectionConfig): {
  client: RedisClient;
  owned: boolean;
} {
  if (!('kind' in redis && typeof redis.kind === 'string'))
    return { client: redis as RedisClient, owned: false };
  const client = createRedisClient(redis as RedisConnectionConfig);
  client.on('error', () => {}); // failures surface as StoreUnavailableError, not as crashes
  return { client, owned: true };
}

/** redis-errors' `RedisError`, the base of every ioredis error (replies, aborted commands, cluster failures). */
const RedisError = Object.getPrototypeOf(ReplyError) as new (...args: never[]) => Error;

/** `true` for an error ioredis raised (by class, never by message text). */
export function isRedisError(error: unknown): boolean {
  return error instanceof RedisError;
}
