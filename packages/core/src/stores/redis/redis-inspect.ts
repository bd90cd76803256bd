import type { Redis } from 'ioredis';
import type { RedisClient } from './connection.ts';

/**
 * Test and operations helpers: walk every key with SCAN (per master on a cluster, never
 * KEYS) and read values of any type. Not exported from the package.
 */
export async function scanAllKeys(
  client: RedisClient,
  match = '*',
): Promise<Array<{ node: Redis; key: string }>> {
  const nodes: Redis[] =
    'nodes' in client && typeof client.nodes === 'function' ? client.nodes('master') : [client as Redis];
  const found: Array<{ node: Redis; key: string }> = [];
  for (const node of nodes) {
    let cursor = '0';
    do {
      const [next, keys] = await node.scan(cursor, 'MATCH', match, 'COUNT', 500);
      for (const key of keys) found.push({ node, key });
      cursor = next;
    } while (cursor !== '0');
  }
  return found;
}

/** Every string stored under `key` (value, hash fields and values, set members, stream fields). */
export async function dumpKey(node: Redis, key: string): Promise<string[]> {
  const type = await node.type(key);
  switch (type) {
    case 'string':
      return [(await node.get(key)) ?? ''];
    case 'hash':
      return Object.entries(await node.hgetall(key)).flat();
    case 'zset':
      return node.zrange(key, 0, -1, 'WITHSCORES');
    case 'set':
      return node.smembers(key);
    case 'list':
      return node.lrange(key, 0, -1);
    case 'stream':
      return (await node.xrange(key, '-', '+')).flatMap(([id, fields]) => [id, ...fields]);
    default:
      return [];
  }
}
