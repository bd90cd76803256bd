import { isIP } from 'node:net';
import { resolve } from 'node:path';
import { type RedisConnectionConfig, redisConfigFromEnv } from '@tessera/core';
import { parseDuration, SESSION_CEILING } from '@tessera/core/internal';
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
  /**
   * Which `X-Forwarded-For` hops to believe for the client address (docs/security.md):
   * `false` (the socket's), a hop count, or the trusted proxies' addresses/CIDRs.
   */
  trustProxy: TrustProxy;
  loginRateLimit: { windowMs: number; perUsername: number; perIp: number };
  /** Base URL of a running auth service (CLI admin calls). */
  authUrl: string;
  /** Security events (docs/events.md). */
  ssf: SsfConfig;
  /** A client must send its request headers within this (slow-client defence). */
  headersTimeoutMs: number;
  /** A client must send its whole request (headers and body) within this. */
  requestTimeoutMs: number;
}

/** `TESSERA_SSF_*`: transmitter delivery and receiver settings. Durations in ms. */
export interface SsfConfig {
  /** Issuers whose SETs `/v1/ssf/receiver` accepts, each with its JWKS URL. */
  trustedIssuers: Array<{ issuer: string; jwksUri: string }>;
  /** Oldest SET `iat` the receiver accepts (and how long a `jti` is remembered). */
  receiverMaxAgeMs: number;
  /** Longest wait between two push attempts (the backoff cap). */
  retryMaxMs: number;
  /** After this, another instance takes over events an instance left unacknowledged. */
  claimIdleMs: number;
  /** Longest a poll request with `returnImmediately: false` waits for events. */
  pollWaitMs: number;
  /** A stream nobody used for this long (no receiver call, no running instance) is removed. */
  inactivityTimeoutMs: number;
}

/** `false`, a hop count (a number, as Fastify reads hops), or trusted proxy addresses/CIDRs. */
export type TrustProxy = false | number | string[];

/** Names proxy-addr (Fastify's) understands besides addresses and CIDRs. */
const PROXY_RANGES = new Set(['loopback', 'linklocal', 'uniquelocal']);

function isProxyAddress(entry: string): boolean {
  if (PROXY_RANGES.has(entry)) return true;
  const [address, bits, extra] = entry.split('/');
  const family = isIP(address ?? '');
  if (family === 0 || extra !== undefined) return false;
  if (bits === undefined) return true;
  if (!/^\d{1,3}$/.test(bits)) return false;
  return Number(bits) <= (family === 4 ? 32 : 128);
}

/**
 * `TESSERA_TRUST_PROXY` (contract §2). `true` is refused: Fastify would take the leftmost
 * `X-Forwarded-For` entry, which the client writes. A hop count must reach Fastify as a
 * number: the string "1" is read as an address list and trusts nothing.
 */
function trustProxy(env: Env): TrustProxy {
  const raw = read(env, 'TESSERA_TRUST_PROXY');
  if (raw === undefined || ['false', 'no', '0'].includes(raw.toLowerCase())) return false;
  if (['true', 'yes'].includes(raw.toLowerCase())) {
    throw new ConfigError(
      'TESSERA_TRUST_PROXY: expected false, a hop count or proxy addresses/CIDRs, got "true" (it would believe the client-written X-Forwarded-For); write 1 for one proxy in front, or its address, e.g. 10.0.0.0/8',
    );
  }
  if (/^\d+$/.test(raw)) {
    const hops = Number(raw);
    if (hops > 16)
      throw new ConfigError(`TESSERA_TRUST_PROXY: expected a hop count from 1 to 16, got "${raw}"`);
    return hops;
  }
  const entries = raw
    .split(',')
    .map((e) => e.trim())
    .filter((e) => e !== '');
  const bad = entries.find((e) => !isProxyAddress(e));
  if (bad !== undefined || entries.length === 0) {
    throw new ConfigError(
      `TESSERA_TRUST_PROXY: expected false, a hop count or comma-separated proxy addresses/CIDRs, got "${raw}"`,
    );
  }
  return entries;
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

const LOOPBACK = /^(localhost|127(\.\d{1,3}){3}|\[::1\])$/i;

/**
 * `Secure` follows the issuer's scheme: on, except for a plain-http issuer on a loopback host
 * (`npm start`'s default `http://127.0.0.1:4000`), where Safari would drop a Secure cookie.
 * See docs/pages.md, "Cookie attributes".
 */
function defaultCookieSecure(issuer: string): boolean {
  const { protocol, hostname } = new URL(issuer);
  return !(protocol === 'http:' && LOOPBACK.test(hostname));
}

function usersSpec(env: Env, dataDir: string): string {
  const raw = read(env, 'TESSERA_USERS');
  if (raw === undefined) return `file:${resolve(dataDir, 'users.json')}`;
  if (raw === 'memory' || /^postgres(ql)?:\/\/\S+$/.test(raw)) return raw;
  if (/^file:.+/.test(raw)) return `file:${resolve(raw.slice(5))}`;
  throw new ConfigError(`TESSERA_USERS: expected file:PATH, memory or a postgres:// URL, got "${raw}"`);
}

function trustedIssuers(env: Env): SsfConfig['trustedIssuers'] {
  const raw = read(env, 'TESSERA_SSF_TRUSTED_ISSUERS');
  if (raw === undefined) return [];
  return raw.split(',').map((item) => {
    const at = item.indexOf('=');
    const issuer = item.slice(0, at).trim();
    const jwksUri = item.slice(at + 1).trim();
    if (
      at <= 0 ||
      !z.url().safeParse(issuer).success ||
      !z.url({ protocol: /^https?$/ }).safeParse(jwksUri).success
    ) {
      throw new ConfigError(
        `TESSERA_SSF_TRUSTED_ISSUERS: expected comma-separated issuer=jwks_uri pairs (URLs), got "${item.trim()}"`,
      );
    }
    return { issuer, jwksUri };
  });
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
  const headersTimeoutMs = duration(env, 'TESSERA_HEADERS_TIMEOUT', '10s', 300_000);
  const requestTimeoutMs = duration(env, 'TESSERA_REQUEST_TIMEOUT', '30s', 600_000);
  if (headersTimeoutMs > requestTimeoutMs) {
    throw new ConfigError('TESSERA_HEADERS_TIMEOUT: expected at most TESSERA_REQUEST_TIMEOUT');
  }
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
    maxSessions: integer(env, 'TESSERA_MAX_SESSIONS', 0, 0, SESSION_CEILING),
    refreshPolicy: oneOf(env, 'TESSERA_REFRESH_POLICY', ['rotate', 'strict'], 'rotate'),
    refreshGraceMs: duration(env, 'TESSERA_REFRESH_GRACE', '10s', 60_000),
    users: usersSpec(env, dataDir),
    adminToken,
    cookieSecure: boolean(env, 'TESSERA_COOKIE_SECURE', defaultCookieSecure(issuer)),
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
    trustProxy: trustProxy(env),
    loginRateLimit: {
      windowMs: duration(env, 'TESSERA_LOGIN_RATE_WINDOW', '1m'),
      perUsername: integer(env, 'TESSERA_LOGIN_RATE_USER', 10, 1, 1_000_000),
      perIp: integer(env, 'TESSERA_LOGIN_RATE_IP', 50, 1, 1_000_000),
    },
    authUrl: url('TESSERA_AUTH_URL', read(env, 'TESSERA_AUTH_URL') ?? issuer),
    ssf: {
      trustedIssuers: trustedIssuers(env),
      receiverMaxAgeMs: duration(env, 'TESSERA_SSF_RECEIVER_MAX_AGE', '1h'),
      retryMaxMs: duration(env, 'TESSERA_SSF_RETRY_MAX', '5m'),
      claimIdleMs: duration(env, 'TESSERA_SSF_CLAIM_IDLE', '30s'),
      pollWaitMs: duration(env, 'TESSERA_SSF_POLL_WAIT', '20s', 60_000),
      inactivityTimeoutMs: duration(env, 'TESSERA_SSF_INACTIVITY_TIMEOUT', '30d'),
    },
    headersTimeoutMs,
    requestTimeoutMs,
  };
}
