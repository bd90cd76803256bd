import { createRedisClient, type RedisClient, type RedisConnectionConfig } from '@tessera/core';

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

/** The caller's client (left open on close), or a new fail-fast one the guard owns. */
export function openClient(redis: RedisClient | RedisConnectionConfig): {
  client: RedisClient;
  owned: boolean;
} {
  if (!('kind' in redis && typeof redis.kind === 'string'))
    return { client: redis as RedisClient, owned: false };
  const client = createRedisClient(redis as RedisConnectionConfig);
  client.on('error', () => {}); // failures surface as 503s, not as crashes
  return { client, owned: true };
}
