import { resolve } from 'node:path';
import { type RedisConnectionConfig, redisConfigFromEnv } from '@tessera/core';
import { parseDuration } from '@tessera/core/internal';
import { z } from 'zod';

/** Everything the auth service reads from the environment (contract §2), validated. Durations in ms. */
export interface ServerConfig {
  host: string;
  port: number;
  dataDir: string;
  issuer: string;
  audience: string;
  tokenMode: 'jwt' | 'opaque';
  signingAlg: 'EdDSA' | 'ES256' | 'RS256';
  accessTtlMs: number;
  idleTimeoutMs: number;
  absoluteTimeoutMs: number;
  concurrency: 'allow' | 'reject' | 'replace';
  maxSessions: number;
  refreshPolicy: 'rotate' | 'strict';
  refreshGraceMs: number;
  /** `file:PATH`, `memory` or a `postgres://` URL. */
  users: string;
  adminToken: string | undefined;
  cookieSecure: boolean;
  cookieDomain: string | undefined;
  /** Origins accepted for cookie-authenticated unsafe requests, besides the issuer's. */
  allowedOrigins: string[];
  redis: RedisConnectionConfig | null;
  /**
   * Revoking writes wait for this many replicas, at most `timeoutMs` (`TESSERA_REDIS_WAIT_REPLICAS`,
   * default 1 on sentinel and cluster, 0 on one Redis URL; `TESSERA_REDIS_WAIT_TIMEOUT`, default 1s).
   */
  redisWait: { replicas: number; timeoutMs: number };
  keysJson: string | undefined;
  keysFile: string | undefined;
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  /** Trust `X-Forwarded-For` from a proxy in front (for the client IP). */
  trustProxy: boolean;
  loginRateLimit: { windowMs: number; perUsername: number; perIp: number };
  /** Base URL of a running auth service (CLI admin calls). */
  authUrl: string;
}

/** A bad environment variable: the message names it and says what was expected. */
export class ConfigError extends Error {
  override name = 'ConfigError';
}

type Env = Record<string, string | undefined>;

function read(env: Env, name: string): string | undefined {
  const value = env[name]?.trim();
  return value === undefined || value === '' ? undefined : value;
}

function duration(env: Env, name: string, fallback: string, max?: number): number {
  const raw = read(env, name) ?? fallback;
  const ms = parseDuration(raw);
  if (ms === null || ms <= 0) {
    throw new ConfigError(`${name}: expected a positive duration like 30s, 10m, 24h or 30d, got "${raw}"`);
  }
  if (max !== undefined && ms > max)
    throw new ConfigError(`${name}: expected at most ${max / 1000}s, got "${raw}"`);
  return ms;
}

function oneOf<T extends string>(env: Env, name: string, values: readonly T[], fallback: T): T {
  const raw = read(env, name) ?? fallback;
  const parsed = z.enum(values as [T, ...T[]]).safeParse(raw);
  if (!parsed.success) throw new ConfigError(`${name}: expected one of ${values.join(', ')}, got "${raw}"`);
  return parsed.data;
}

function integer(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = read(env, name);
  if (raw === undefined) return fallback;
  const parsed = z.coerce.number().int().min(min).max(max).safeParse(raw);
  if (!/^\d+$/.test(raw) || !parsed.success) {
    throw new ConfigError(`${name}: expected an integer from ${min} to ${max}, got "${raw}"`);
  }
  return parsed.data;
}

function boolean(env: Env, name: string, fallback: boolean): boolean {
  const raw = read(env, name)?.toLowerCase();
  if (raw === undefined) return fallback;
  if (['true', '1', 'yes'].includes(raw)) return true;
  if (['false', '0', 'no'].includes(raw)) return false;
  throw new ConfigError(`${name}: expected true or false, got "${raw}"`);
}

function url(name: string, raw: string): string {
  const parsed = z.url({ protocol: /^https?$/ }).safeParse(raw);
  if (!parsed.success) throw new ConfigError(`${name}: expected an http:// or https:// URL, got "${raw}"`);
  return raw.replace(/\/+$/, '');
}

function usersSpec(env: Env, dataDir: string): string {
  const raw = read(env, 'TESSERA_USERS');
  if (raw === undefined) return `file:${resolve(dataDir, 'users.json')}`;
  if (raw === 'memory' || /^postgres(ql)?:\/\/\S+$/.test(raw)) return raw;
  if (/^file:.+/.test(raw)) return `file:${resolve(raw.slice(5))}`;
  throw new ConfigError(`TESSERA_USERS: expected file:PATH, memory or a postgres:// URL, got "${raw}"`);
}

function redis(env: Env): RedisConnectionConfig | null {
  try {
    return redisConfigFromEnv(env as NodeJS.ProcessEnv);
  } catch (error) {
    throw new ConfigError(error instanceof Error ? error.message : 'TESSERA_REDIS_URL: invalid value');
  }
}

/**
 * Reads and validates the environment (contract §2). Throws `ConfigError` naming the first
 * bad variable.
 *
 * @example
 * const config = loadConfig({ PORT: '0', TESSERA_USERS: 'memory' });
 */
export function loadConfig(env: Env = process.env): ServerConfig {
  const host = read(env, 'HOST') ?? '127.0.0.1';
  const port = integer(env, 'PORT', 4000, 0, 65535);
  const dataDir = resolve(read(env, 'TESSERA_DATA_DIR') ?? '.tessera');
  const issuerHost = host.includes(':') ? `[${host}]` : host;
  const issuer = url('TESSERA_ISSUER', read(env, 'TESSERA_ISSUER') ?? `http://${issuerHost}:${port}`);
  const origins = (read(env, 'TESSERA_ALLOWED_ORIGINS') ?? '').split(',').filter((o) => o.trim() !== '');
  const adminToken = read(env, 'TESSERA_ADMIN_TOKEN');
  if (adminToken !== undefined && adminToken.length < 16) {
    throw new ConfigError('TESSERA_ADMIN_TOKEN: expected a secret of at least 16 characters');
  }
  const accessTtlMs = duration(env, 'TESSERA_ACCESS_TTL', '10m');
  const redisConfig = redis(env);
  const replicated = redisConfig !== null && redisConfig.kind !== 'single';
  // Guard settings share the environment: validate them too, so one bad file fails everywhere.
  oneOf(env, 'TESSERA_REVOCATION_CHECK', ['feed', 'request'], 'feed');
  duration(env, 'TESSERA_FEED_MAX_LAG', '2s');
  boolean(env, 'TESSERA_FAIL_OPEN', false);
  return {
    host,
    port,
    dataDir,
    issuer,
    audience: read(env, 'TESSERA_AUDIENCE') ?? 'tessera',
    tokenMode: oneOf(env, 'TESSERA_TOKEN_MODE', ['jwt', 'opaque'], 'jwt'),
    signingAlg: oneOf(env, 'TESSERA_SIGNING_ALG', ['EdDSA', 'ES256', 'RS256'], 'EdDSA'),
    accessTtlMs,
    idleTimeoutMs: duration(env, 'TESSERA_IDLE_TIMEOUT', '24h'),
    absoluteTimeoutMs: duration(env, 'TESSERA_ABSOLUTE_TIMEOUT', '30d'),
    concurrency: oneOf(env, 'TESSERA_CONCURRENCY', ['allow', 'reject', 'replace'], 'allow'),
    maxSessions: integer(env, 'TESSERA_MAX_SESSIONS', 0, 0, 10_000),
    refreshPolicy: oneOf(env, 'TESSERA_REFRESH_POLICY', ['rotate', 'strict'], 'rotate'),
    refreshGraceMs: duration(env, 'TESSERA_REFRESH_GRACE', '10s', 60_000),
    users: usersSpec(env, dataDir),
    adminToken,
    cookieSecure: boolean(env, 'TESSERA_COOKIE_SECURE', true),
    cookieDomain: read(env, 'TESSERA_COOKIE_DOMAIN'),
    allowedOrigins: origins.map((o) => new URL(url('TESSERA_ALLOWED_ORIGINS', o.trim())).origin),
    redis: redisConfig,
    redisWait: {
      replicas: integer(env, 'TESSERA_REDIS_WAIT_REPLICAS', replicated ? 1 : 0, 0, 16),
      // Below the Redis client's 2 s command timeout, which would cut a longer WAIT short.
      timeoutMs: duration(env, 'TESSERA_REDIS_WAIT_TIMEOUT', '1s', 1500),
    },
    keysJson: read(env, 'TESSERA_KEYS'),
    keysFile: read(env, 'TESSERA_KEYS_FILE'),
    logLevel: oneOf(env, 'LOG_LEVEL', ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], 'info'),
    trustProxy: boolean(env, 'TESSERA_TRUST_PROXY', false),
    loginRateLimit: {
      windowMs: duration(env, 'TESSERA_LOGIN_RATE_WINDOW', '1m'),
      perUsername: integer(env, 'TESSERA_LOGIN_RATE_USER', 10, 1, 1_000_000),
      perIp: integer(env, 'TESSERA_LOGIN_RATE_IP', 50, 1, 1_000_000),
    },
    authUrl: url('TESSERA_AUTH_URL', read(env, 'TESSERA_AUTH_URL') ?? issuer),
  };
}
