import {
  type Clock,
  connectRedis,
  createMemoryStore,
  createRedisClient,
  createRedisStore,
  createSessionService,
  type KeyRing,
  loadKeyRing,
  type RedisClient,
  type SessionStore,
} from '@tessera/core';
import { startTouchApplier, type TouchApplier } from '@tessera/core/internal';
import type { Guard } from '@tessera/guard';
import type { Logger } from 'pino';
import type { ServerConfig } from './config/env-config.ts';
import type { AppContext } from './http/context.ts';
import type { PasswordParams } from './users/password.ts';
import type { UserStore } from './users/types.ts';
import { createUsers, openUserStore } from './users/user-service.ts';

/** Ready-made parts to use instead of those described by the config (tests, embedding). */
export interface ResourceOverrides {
  store?: SessionStore;
  userStore?: UserStore;
  keys?: KeyRing;
  passwordParams?: PasswordParams;
}

/** Extra time revocations stay on record after the last access token they concern expires. */
const REVOCATION_MARGIN_MS = 60_000;

/** Opens the session store described by the config: Redis when configured, else in memory. */
export async function openSessionStore(
  config: ServerConfig,
  logger?: Logger,
): Promise<{ store: SessionStore; client: RedisClient | null }> {
  const revocationRetentionMs = config.accessTtlMs + REVOCATION_MARGIN_MS;
  if (!config.redis) return { store: createMemoryStore({ revocationRetentionMs }), client: null };
  const client = createRedisClient(config.redis);
  client.on('error', () => {}); // reported through StoreUnavailableError and /readyz, never as text
  try {
    await connectRedis(client);
  } catch {
    logger?.warn('redis is not reachable yet; answering 503 store_unavailable until it is');
  }
  const store = createRedisStore({ client, revocationRetentionMs, replicaWait: config.redisWait });
  return { store, client };
}

/** Opens the key ring described by the config (TESSERA_KEYS, TESSERA_KEYS_FILE or the data dir). */
export function openKeyRing(config: ServerConfig, clock?: Clock): Promise<KeyRing> {
  return loadKeyRing({
    alg: config.signingAlg,
    ...(config.keysJson !== undefined
      ? { keysJson: config.keysJson }
      : config.keysFile !== undefined
        ? { keysFile: config.keysFile }
        : { dataDir: config.dataDir }),
    maxTokenLifetimeMs: config.accessTtlMs,
    ...(clock ? { clock } : {}),
  });
}

/**
 * jwt mode with Redis: a guard on the revocation feed, so `/v1/authorize` answers from the
 * local verify path without a Redis call per request while the feed is current. Started in
 * the background; until it is current, `/v1/authorize` checks the store per request.
 */
async function openForwardAuthGuard(
  config: ServerConfig,
  client: RedisClient,
  keys: KeyRing,
  clock: Clock,
  logger: Logger,
): Promise<Guard | undefined> {
  let createGuard: typeof import('@tessera/guard').createGuard;
  try {
    // Loaded only here: the embedded default (memory store) never needs the guard package.
    ({ createGuard } = await import('@tessera/guard'));
  } catch {
    logger.warn('@tessera/guard could not be loaded; /v1/authorize checks the store per request');
    return undefined;
  }
  const guard = createGuard({
    redis: client,
    tokenMode: 'jwt',
    issuer: config.issuer,
    audience: config.audience,
    keys: keys.verificationKeys(),
    accessTtlMs: config.accessTtlMs,
    revocationCheck: 'feed',
    idleTimeoutMs: config.idleTimeoutMs,
    failOpen: false,
    clock,
    env: {},
    logger: { warn: (fields, message) => logger.warn(fields, message) },
  });
  guard.ready().catch(() => {}); // retried on use; the store path answers meanwhile
  return guard;
}

/**
 * Opaque mode: applies the touches guards queue (a guard's Redis user cannot write sessions).
 * A failing round is counted and logged at most once a minute.
 */
function startGuardTouches(config: ServerConfig, client: RedisClient, clock: Clock, logger: Logger) {
  let loggedAt = Number.NEGATIVE_INFINITY;
  const applier: TouchApplier = startTouchApplier({
    client,
    idleMs: config.idleTimeoutMs,
    minIntervalMs: Math.floor(config.idleTimeoutMs / 20),
    now: () => clock.now(),
    onError: (_error, refused) => {
      if (clock.now() - loggedAt < 60_000) return;
      loggedAt = clock.now();
      logger.warn(
        { refused, failures: applier.errors },
        'applying guard touches failed; sessions used only through guards may idle out early',
      );
    },
  });
  return applier;
}

/** Opens store, users and keys, and builds the session service on them. */
export async function openResources(
  config: ServerConfig,
  overrides: ResourceOverrides,
  clock: Clock,
  logger: Logger,
): Promise<{
  context: Pick<AppContext, 'sessions' | 'store' | 'keys' | 'users' | 'guard'>;
  /** Opaque mode with Redis: the applier of guards' touches. */
  touches: TouchApplier | undefined;
  close(): Promise<void>;
}> {
  const closers: Array<() => Promise<void> | void> = [];
  try {
    const keys = overrides.keys ?? (await openKeyRing(config, clock));
    if (!overrides.keys) closers.push(() => keys.close());
    const userStore = overrides.userStore ?? (await openUserStore(config.users));
    if (!overrides.userStore) closers.push(() => userStore.close());
    let store = overrides.store;
    let guard: Guard | undefined;
    let touches: TouchApplier | undefined;
    if (!store) {
      const opened = await openSessionStore(config, logger);
      store = opened.store;
      closers.push(() => opened.store.close()); // the Redis store quits its client
      if (opened.client && config.tokenMode === 'opaque') {
        const applier = startGuardTouches(config, opened.client, clock, logger);
        closers.push(() => applier.close());
        touches = applier;
      }
      if (opened.client && config.tokenMode === 'jwt') {
        const started = await openForwardAuthGuard(config, opened.client, keys, clock, logger);
        if (started) closers.push(() => started.close());
        guard = started;
      }
    }
    const sessions = createSessionService({
      store,
      keys,
      issuer: config.issuer,
      audience: config.audience,
      tokenMode: config.tokenMode,
      accessTtlMs: config.accessTtlMs,
      idleTimeoutMs: config.idleTimeoutMs,
      absoluteTimeoutMs: config.absoluteTimeoutMs,
      concurrency: config.concurrency,
      maxSessions: config.maxSessions,
      refreshPolicy: config.refreshPolicy,
      refreshGraceMs: config.refreshGraceMs,
      clock,
    });
    const users = createUsers(userStore, overrides.passwordParams);
    const close = async () => {
      for (const closer of closers.reverse()) await Promise.resolve(closer()).catch(() => {});
    };
    return { context: { sessions, store, keys, users, guard }, touches, close };
  } catch (error) {
    for (const closer of closers.reverse()) await Promise.resolve(closer()).catch(() => {});
    throw error;
  }
}
