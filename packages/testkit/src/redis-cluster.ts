import { spawn } from 'node:child_process';
import { freePortWithBus } from './free-port.ts';
import { type RedisServer, rawCommand, startRedis } from './redis-server.ts';

/** A Redis Cluster of processes this test spawned: 3 masters, 3 replicas. */
export interface RedisCluster {
  /** Seed nodes for `new Cluster(nodes)` / `TESSERA_REDIS_CLUSTER`. */
  nodes: Array<{ host: string; port: number }>;
  servers: RedisServer[];
  /** Kills every node by pid. */
  stop(): Promise<void>;
}

const REDIS_CLI = process.env.REDIS_CLI_BIN ?? 'redis-cli';

/**
 * Starts 6 `redis-server --cluster-enabled yes` on free ports (with their bus port +10000
 * free), joins them with `redis-cli --cluster create … --cluster-replicas 1` and waits until
 * every node reports `cluster_state:ok`.
 */
export async function startRedisCluster(): Promise<RedisCluster> {
  const ports = new Set<number>();
  while (ports.size < 6) ports.add(await freePortWithBus());
  const servers: RedisServer[] = [];
  const stop = async () => {
    await Promise.all(servers.map((s) => s.stop()));
  };
  try {
    const started = await Promise.allSettled(
      [...ports].map((port) =>
        startRedis(
          [
            '--cluster-enabled',
            'yes',
            '--cluster-config-file',
            'nodes.conf',
            '--cluster-node-timeout',
            '2000',
            '--repl-diskless-sync-delay',
            '0',
          ],
          port,
        ),
      ),
    );
    for (const result of started) if (result.status === 'fulfilled') servers.push(result.value);
    const failed = started.find((r) => r.status === 'rejected');
    if (failed) throw (failed as PromiseRejectedResult).reason;
    await createCluster(servers.map((s) => `127.0.0.1:${s.port}`));
    await waitForClusterOk(servers);
  } catch (error) {
    await stop();
    throw error;
  }
  return { nodes: servers.map((s) => ({ host: '127.0.0.1', port: s.port })), servers, stop };
}

function createCluster(addresses: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      REDIS_CLI,
      ['--cluster', 'create', ...addresses, '--cluster-replicas', '1', '--cluster-yes'],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let output = '';
    child.stdout?.on('data', (chunk) => {
      output += chunk;
    });
    child.stderr?.on('data', (chunk) => {
      output += chunk;
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    child.once('error', reject);
    child.once('exit', (code) => {
      clearTimeout(timer);
      if (code === 0) resolve();
      else reject(new Error(`redis-cli --cluster create failed (${code}): ${output.slice(-500)}`));
    });
  });
}

async function waitForClusterOk(servers: RedisServer[]): Promise<void> {
  for (let i = 0; i < 400; i++) {
    const infos = await Promise.all(
      servers.map((s) => rawCommand(s.port, ['CLUSTER', 'INFO']).catch(() => '')),
    );
    if (infos.every((info) => info.includes('cluster_state:ok') && info.includes('cluster_slots_ok:16384'))) {
      return;
    }
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error('redis cluster did not reach cluster_state:ok');
}
