import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './free-port.ts';
import { type RedisServer, rawCommand, spawnOwnRedis, startRedis } from './redis-server.ts';

/** One master, one replica and one sentinel (`redis-server --sentinel`), all spawned here. */
export interface RedisSentinel {
  master: RedisServer;
  replica: RedisServer;
  sentinel: RedisServer;
  /** The master name the sentinel monitors. */
  name: string;
  /** For `TESSERA_REDIS_SENTINELS` / ioredis `sentinels`. */
  sentinels: Array<{ host: string; port: number }>;
  stop(): Promise<void>;
}

export async function startRedisSentinel(name = 'tessera'): Promise<RedisSentinel> {
  const servers: RedisServer[] = [];
  const stop = async () => {
    await Promise.all(servers.map((s) => s.stop()));
  };
  try {
    const master = await startRedis(['--repl-diskless-sync-delay', '0']);
    servers.push(master);
    const replica = await startRedis(['--replicaof', '127.0.0.1', String(master.port)]);
    servers.push(replica);
    const sentinel = await startSentinelProcess(name, master.port);
    servers.push(sentinel);
    await waitFor(async () => {
      const addr = await rawCommand(sentinel.port, ['SENTINEL', 'get-master-addr-by-name', name]);
      const link = await rawCommand(replica.port, ['INFO', 'replication']);
      return addr.includes(String(master.port)) && link.includes('master_link_status:up');
    });
    return {
      master,
      replica,
      sentinel,
      name,
      sentinels: [{ host: '127.0.0.1', port: sentinel.port }],
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}

async function startSentinelProcess(name: string, masterPort: number): Promise<RedisServer> {
  for (let attempt = 0; attempt < 5; attempt++) {
    const port = await freePort();
    const dir = mkdtempSync(join(tmpdir(), 'tessera-sentinel-'));
    const config = join(dir, 'sentinel.conf');
    writeFileSync(
      config,
      [
        `port ${port}`,
        'bind 127.0.0.1',
        'protected-mode no',
        `dir ${dir}`,
        'loglevel warning',
        `sentinel monitor ${name} 127.0.0.1 ${masterPort} 1`,
        `sentinel down-after-milliseconds ${name} 1000`,
        `sentinel failover-timeout ${name} 3000`,
        '',
      ].join('\n'),
    );
    const server = await spawnOwnRedis([config, '--sentinel'], port, dir);
    if (server) return server;
  }
  throw new Error('could not start redis-server --sentinel');
}

async function waitFor(check: () => Promise<boolean>): Promise<void> {
  for (let i = 0; i < 400; i++) {
    if (await check().catch(() => false)) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error('redis sentinel set-up did not become ready');
}
