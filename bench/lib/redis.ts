import { type RedisServer, startRedis } from '../../test/support/redis-server.ts';

/** A private redis-server for one bench run (never the machine's own). */
export async function startBenchRedis(): Promise<RedisServer> {
  return startRedis();
}
