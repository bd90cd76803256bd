import {
  type Clock,
  type RedisClient,
  type RedisConnectionConfig,
  redisConfigFromEnv,
  type SessionStore,
  type SigningAlg,
  systemClock,
  type TokenMode,
} from '@tessera/core';
import { DEFAULT_KEY_PREFIX, parseDuration } from '@tessera/core/internal';
import type { JWTVerifyGetKey } from 'jose';
import type { Registry } from 'prom-client';

/** Where per-request lookups go: the two read paths of the session store. */
export type SessionLookup = Pick<SessionStore, 'getSession' | 'touchSession'>;

/** Minimal logger (pino-compatible: `logger.warn(fields, message)`). */
export interface GuardLogger {
  warn(fields: Record<string, unknown>, message: string): void;
}

/**
 * Options of {@link createGuard}. Every option defaults from the environment (contract §2),
 * so `createGuard()` alone is enough in a service started with the usual variables.
 */
export interface GuardOptions {
  /** Base URL of the auth service (metadata and JWKS). @default env `TESSERA_AUTH_URL` */
  authUrl?: string;
  /** A Redis client to use (not closed by the guard), or where Redis is. @default from `TESSERA_REDIS_URL`/`_CLUSTER`/`_SENTINELS` */
  redis?: RedisClient | RedisConnectionConfig;
  /** Per-request lookups; @default the Redis store on `redis` */
  store?: SessionLookup;
  /** @default env `TESSERA_TOKEN_MODE`, else `jwt` */
  tokenMode?: TokenMode;
  /** Expected `iss`. @default env `TESSERA_ISSUER`, else `issuer` from the auth service metadata */
  issuer?: string;
  /** Expected `aud`. @default env `TESSERA_AUDIENCE`, else `tessera` */
  audience?: string;
  /** Accepted signature algorithms. @default `['EdDSA', 'ES256', 'RS256']` */
  algorithms?: SigningAlg[];
  /** Keys to verify with, instead of the auth service's JWKS (tests, pinned keys). */
  keys?: JWTVerifyGetKey;
  /** `feed` (local set kept current) or `request` (one lookup per request). @default env `TESSERA_REVOCATION_CHECK`, else `feed` */
  revocationCheck?: 'feed' | 'request';
  /** Milliseconds without news from the feed before per-request checks. @default env `TESSERA_FEED_MAX_LAG`, else 2000 */
  feedMaxLagMs?: number;
  /** Let requests through when neither feed nor Redis can be trusted. @default env `TESSERA_FAIL_OPEN`, else false */
  failOpen?: boolean;
  /** Idle timeout of sessions (opaque mode: sliding expiry). @default env `TESSERA_IDLE_TIMEOUT`, else 24 h */
  idleTimeoutMs?: number;
  /** Redis key prefix. @default `tessera:` */
  keyPrefix?: string;
  /** Verified tokens (jwt) or session lookups (opaque, feed mode) kept in memory. @default 10000 */
  cacheSize?: number;
  /**
   * Opaque mode with the feed: how long a session lookup is reused (ms). Revocations still
   * apply at once (the revocation set is consulted on every request). @default 30000
   */
  opaqueCacheMs?: number;
  /** How long `ready()` waits for Redis (ms). @default 5000 */
  connectTimeoutMs?: number;
  /** Minimum ms between two JWKS refetches for an unknown `kid`. @default 1000 */
  jwksCooldownMs?: number;
  /** prom-client registry to register the guard's metrics in. */
  registry?: Registry;
  logger?: GuardLogger;
  clock?: Clock;
  /** Environment to read defaults from. @default `process.env` */
  env?: NodeJS.ProcessEnv;
}

/** Options after defaults and validation. */
export interface ResolvedOptions {
  authUrl: string | undefined;
  redis: RedisClient | RedisConnectionConfig | null;
  store: SessionLookup | undefined;
  tokenMode: TokenMode;
  issuer: string | undefined;
  audience: string;
  algorithms: SigningAlg[];
  keys: JWTVerifyGetKey | undefined;
  revocationCheck: 'feed' | 'request';
  feedMaxLagMs: number;
  failOpen: boolean;
  idleTimeoutMs: number;
  keyPrefix: string;
  cacheSize: number;
  opaqueCacheMs: number;
  connectTimeoutMs: number;
  jwksCooldownMs: number;
  registry: Registry | undefined;
  logger: GuardLogger;
  clock: Clock;
}

const ALGORITHMS: readonly SigningAlg[] = ['EdDSA', 'ES256', 'RS256'];

const consoleLogger: GuardLogger = {
  warn: (fields, message) => console.warn(JSON.stringify({ level: 'warn', msg: message, ...fields })),
};

function readEnum<T extends string>(
  value: string | undefined,
  name: string,
  allowed: readonly T[],
): T | undefined {
  if (value === undefined || value.trim() === '') return undefined;
  const trimmed = value.trim();
  if (!(allowed as readonly string[]).includes(trimmed)) {
    throw new TypeError(`${name}: expected one of ${allowed.join(', ')}`);
  }
  return trimmed as T;
}

function readDuration(value: string | undefined, name: string): number | undefined {
  if (value === undefined || value.trim() === '') return undefined;
  const ms = parseDuration(value);
  if (ms === null || ms <= 0) throw new TypeError(`${name}: expected a duration such as 500ms, 2s, 10m`);
  return ms;
}

function readBoolean(value: string | undefined, name: string): boolean | undefined {
  return readEnum(value, name, ['true', 'false'] as const) === undefined
    ? undefined
    : value?.trim() === 'true';
}

function checkUrl(value: string | undefined, name: string): string | undefined {
  if (value === undefined || value.trim() === '') return undefined;
  try {
    const url = new URL(value.trim());
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error('scheme');
    return url.href.replace(/\/+$/, '');
  } catch {
    throw new TypeError(`${name}: expected an http:// or https:// URL`);
  }
}

function checkPositive(value: number, name: string): number {
  if (!Number.isFinite(value) || value <= 0) throw new TypeError(`${name}: expected a positive number`);
  return value;
}

/** Applies defaults from the environment and validates everything once. Throws `TypeError`. */
export function resolveOptions(options: GuardOptions): ResolvedOptions {
  const env = options.env ?? process.env;
  const tokenMode =
    options.tokenMode ??
    readEnum(env.TESSERA_TOKEN_MODE, 'TESSERA_TOKEN_MODE', ['jwt', 'opaque'] as const) ??
    'jwt';
  if (tokenMode !== 'jwt' && tokenMode !== 'opaque') throw new TypeError('tokenMode: expected jwt or opaque');
  const revocationCheck =
    options.revocationCheck ??
    readEnum(env.TESSERA_REVOCATION_CHECK, 'TESSERA_REVOCATION_CHECK', ['feed', 'request'] as const) ??
    'feed';
  if (revocationCheck !== 'feed' && revocationCheck !== 'request') {
    throw new TypeError('revocationCheck: expected feed or request');
  }
  const redis = options.redis ?? redisConfigFromEnv(env);
  const store = options.store;
  if (redis === null && (store === undefined || revocationCheck === 'feed')) {
    throw new TypeError(
      'TESSERA_REDIS_URL: the guard needs the shared Redis (TESSERA_REDIS_URL, TESSERA_REDIS_CLUSTER or TESSERA_REDIS_SENTINELS) to learn of revocations',
    );
  }
  const authUrl = checkUrl(options.authUrl ?? env.TESSERA_AUTH_URL, 'TESSERA_AUTH_URL');
  const issuer = options.issuer ?? (env.TESSERA_ISSUER?.trim() || undefined);
  if (tokenMode === 'jwt' && options.keys === undefined && authUrl === undefined) {
    throw new TypeError('TESSERA_AUTH_URL: expected the auth service URL (jwt mode fetches its JWKS)');
  }
  if (tokenMode === 'jwt' && issuer === undefined && authUrl === undefined) {
    throw new TypeError('TESSERA_ISSUER: expected the issuer (or TESSERA_AUTH_URL to read it from)');
  }
  const algorithms = options.algorithms ?? [...ALGORITHMS];
  if (algorithms.length === 0 || !algorithms.every((alg) => ALGORITHMS.includes(alg))) {
    throw new TypeError(`algorithms: expected a non-empty list of ${ALGORITHMS.join(', ')}`);
  }
  return {
    authUrl,
    redis,
    store,
    tokenMode,
    issuer,
    audience: options.audience ?? (env.TESSERA_AUDIENCE?.trim() || 'tessera'),
    algorithms,
    keys: options.keys,
    revocationCheck,
    feedMaxLagMs: checkPositive(
      options.feedMaxLagMs ?? readDuration(env.TESSERA_FEED_MAX_LAG, 'TESSERA_FEED_MAX_LAG') ?? 2000,
      'feedMaxLagMs',
    ),
    failOpen: options.failOpen ?? readBoolean(env.TESSERA_FAIL_OPEN, 'TESSERA_FAIL_OPEN') ?? false,
    idleTimeoutMs: checkPositive(
      options.idleTimeoutMs ?? readDuration(env.TESSERA_IDLE_TIMEOUT, 'TESSERA_IDLE_TIMEOUT') ?? 86_400_000,
      'idleTimeoutMs',
    ),
    keyPrefix: options.keyPrefix ?? DEFAULT_KEY_PREFIX,
    cacheSize: checkPositive(options.cacheSize ?? 10_000, 'cacheSize'),
    opaqueCacheMs: checkPositive(options.opaqueCacheMs ?? 30_000, 'opaqueCacheMs'),
    connectTimeoutMs: checkPositive(options.connectTimeoutMs ?? 5000, 'connectTimeoutMs'),
    jwksCooldownMs: checkPositive(options.jwksCooldownMs ?? 1000, 'jwksCooldownMs'),
    registry: options.registry,
    logger: options.logger ?? consoleLogger,
    clock: options.clock ?? systemClock,
  };
}
