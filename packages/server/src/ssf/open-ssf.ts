import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import {
  connectRedis,
  createRedisClient,
  DEFAULT_KEY_PREFIX,
  type KeyRing,
  type RedisClient,
  type SessionStore,
} from '@tessera/core/internal';
import type { Registry } from 'prom-client';
import type { ServerConfig } from '../config/env-config.ts';
import { createReceiver, type Receiver } from './receiver.ts';
import { createRedisSsfStore } from './redis-ssf-store.ts';
import { redisRevocationSource, storeRevocationSource } from './revocation-source.ts';
import { createSsfMetrics, type SsfMetrics } from './ssf-metrics.ts';
import { createMemorySsfStore, type SsfStore } from './ssf-store.ts';
import { createTransmitter, type Transmitter } from './transmitter.ts';

/** The security-event side of the auth service (docs/events.md). */
export interface Ssf {
  store: SsfStore;
  transmitter: Transmitter;
  receiver: Receiver;
  metrics: SsfMetrics;
  close(): Promise<void>;
}

/** Extra time revocations stay on record (same margin as the session store's). */
const REVOCATION_MARGIN_MS = 60_000;

async function redisClient(config: ServerConfig): Promise<RedisClient> {
  if (!config.redis) throw new TypeError('no Redis configured');
  const client = createRedisClient(config.redis);
  client.on('error', () => {}); // reported as StoreUnavailableError, never as text
  await connectRedis(client).catch(() => {}); // reconnects in the background
  return client;
}

/** Opens the SSF store in Redis (shared by every auth instance) or memory (embedded default). */
export async function openSsfStore(config: ServerConfig): Promise<SsfStore> {
  return config.redis
    ? createRedisSsfStore(await redisClient(config), DEFAULT_KEY_PREFIX)
    : createMemorySsfStore();
}

/**
 * Opens the store, the revocation source and the transmitter (started), and the receiver.
 * With Redis the feed is read through a consumer group, so several instances share the work
 * and the position survives restarts; otherwise (memory store, or a store handed in by a
 * test) `sessionStore` is followed in-process with `followRevocations`.
 */
export async function openSsf(options: {
  config: ServerConfig;
  sessionStore: SessionStore;
  /** `true` when `sessionStore` is the one described by `config` (not handed in). */
  storeFromConfig: boolean;
  keys: KeyRing;
  /** The service's clock (feed entry ids are in it). */
  now: () => number;
  registry: Registry;
  revokeUser(username: string): Promise<boolean>;
  warn(fields: Record<string, unknown>, message: string): void;
}): Promise<Ssf> {
  const { config } = options;
  const redis = config.redis !== null && options.storeFromConfig;
  const store = redis
    ? createRedisSsfStore(await redisClient(config), DEFAULT_KEY_PREFIX)
    : createMemorySsfStore();
  const consumer = `${hostname()}-${process.pid}-${randomUUID().slice(0, 8)}`;
  const feedClient = redis ? await redisClient(config) : null;
  const source = feedClient
    ? redisRevocationSource({
        client: feedClient,
        prefix: DEFAULT_KEY_PREFIX,
        consumer,
        retentionMs: config.accessTtlMs + REVOCATION_MARGIN_MS,
        claimIdleMs: config.ssf.claimIdleMs,
        onError: (error) =>
          options.warn(
            { err: error instanceof Error ? error.name : 'error' }, // never Redis text (it may name keys or users)
            'security events: cannot read the revocation feed (Redis down, or the ACL lacks XREADGROUP/XGROUP); retrying',
          ),
      })
    : storeRevocationSource(
        options.sessionStore,
        { now: options.now },
        {
          onLoss: () =>
            options.warn({}, 'security events: revocation feed entries may have been lost; reading it again'),
        },
      );
  const metrics = createSsfMetrics(options.registry, async () => {
    const streams = await store.listStreams();
    return Promise.all(streams.map(async (s) => ({ stream: s.id, length: await store.queueLength(s) })));
  });
  const transmitter = createTransmitter({
    issuer: config.issuer,
    keys: options.keys,
    store,
    source,
    metrics,
    consumer,
    retryBaseMs: Math.min(1000, config.ssf.retryMaxMs),
    retryMaxMs: config.ssf.retryMaxMs,
    claimIdleMs: config.ssf.claimIdleMs,
    pushTimeoutMs: 5000,
    warn: options.warn,
  });
  transmitter.start();
  const receiver = createReceiver({
    trusted: config.ssf.trustedIssuers,
    audience: config.issuer,
    maxAgeMs: config.ssf.receiverMaxAgeMs,
    store,
    revokeUser: options.revokeUser,
  });
  return {
    store,
    transmitter,
    receiver,
    metrics,
    async close() {
      await transmitter.close();
      await store.close();
      if (feedClient) {
        try {
          await feedClient.quit();
        } catch {
          feedClient.disconnect();
        }
      }
    },
  };
}
