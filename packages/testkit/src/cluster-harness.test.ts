import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type RedisCluster,
  type RedisSentinel,
  rawCommand,
  startRedisCluster,
  startRedisSentinel,
} from './index.ts';

describe('redis cluster harness', () => {
  let cluster: RedisCluster;
  beforeAll(async () => {
    cluster = await startRedisCluster();
  });
  afterAll(async () => {
    await cluster?.stop();
  });

  it('runs 3 masters and 3 replicas in state ok', async () => {
    expect(cluster.servers).toHaveLength(6);
    const roles = await Promise.all(cluster.servers.map((s) => rawCommand(s.port, ['ROLE'])));
    expect(roles.filter((r) => r.includes('master'))).toHaveLength(3);
    expect(roles.filter((r) => r.includes('slave'))).toHaveLength(3);
    for (const s of cluster.servers) {
      expect(await rawCommand(s.port, ['CLUSTER', 'INFO'])).toContain('cluster_state:ok');
    }
  });
});

describe('redis sentinel harness', () => {
  let sentinel: RedisSentinel;
  beforeAll(async () => {
    sentinel = await startRedisSentinel();
  });
  afterAll(async () => {
    await sentinel?.stop();
  });

  it('monitors master tessera with one replica', async () => {
    const addr = await rawCommand(sentinel.sentinel.port, ['SENTINEL', 'get-master-addr-by-name', 'tessera']);
    expect(addr).toContain(String(sentinel.master.port));
  });

  it('stop kills every process', async () => {
    const other = await startRedisSentinel();
    await other.stop();
    for (const s of [other.master, other.replica, other.sentinel]) {
      await expect(rawCommand(s.port, ['PING'])).rejects.toThrow();
    }
  });
});
