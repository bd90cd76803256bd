import { type RedisServer, startRedis } from '@tessera/testkit';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll } from 'vitest';
import { connectRedis, createRedisClient } from './connection.ts';

/**
 * A private Redis server and a connected client for the calling `describe` block: started in
 * `beforeAll`, stopped in `afterAll` (imported by tests only). Read `client` and `server` inside
 * tests and hooks, after `beforeAll` has run.
 */
export function usePrivateRedis(): { readonly client: Redis; readonly server: RedisServer } {
  let server: RedisServer | undefined;
  let client: Redis | undefined;
  beforeAll(async () => {
    server = await startRedis();
    client = createRedisClient({ kind: 'single', url: server.url }) as Redis;
    await connectRedis(client);
  });
  afterAll(async () => {
    client?.disconnect();
    await server?.stop();
  });
  return {
    get client() {
      if (client === undefined) throw new Error('usePrivateRedis: read client inside a test or hook');
      return client;
    },
    get server() {
      if (server === undefined) throw new Error('usePrivateRedis: read server inside a test or hook');
      return server;
    },
  };
}
