import type { RedisCluster } from './redis-cluster.ts';
import { type RedisServer, rawCommand, spawnOwnRedis } from './redis-server.ts';

async function poll(check: () => Promise<boolean>, what: string, timeoutMs = 20_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (await check().catch(() => false)) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** Waits until the replica on `port` reports its link to its master as up. */
export function waitForReplicaLink(port: number, timeoutMs?: number): Promise<void> {
  return poll(
    async () => (await rawCommand(port, ['INFO', 'replication'])).includes('master_link_status:up'),
    `the replica on ${port} to link up`,
    timeoutMs,
  );
}

/** One line of `CLUSTER NODES`. */
export interface ClusterNode {
  id: string;
  port: number;
  master: boolean;
  /** The master's id, for a replica. */
  masterId: string | undefined;
  /** Slot ranges `[from, to]` a master serves. */
  slots: Array<[number, number]>;
  failed: boolean;
}

/** `CLUSTER NODES` as seen from `port`. */
export async function clusterNodes(port: number): Promise<ClusterNode[]> {
  const text = await rawCommand(port, ['CLUSTER', 'NODES']);
  const nodes: ClusterNode[] = [];
  for (const line of text.split('\n')) {
    const f = line.trim().split(' ');
    const address = /:(\d+)@/.exec(f[1] ?? '');
    if (!f[0] || !address || f[0].length !== 40) continue;
    nodes.push({
      id: f[0],
      port: Number(address[1]),
      master: f[2]?.includes('master') ?? false,
      masterId: f[3] === '-' ? undefined : f[3],
      slots: f.slice(8).flatMap((range): Array<[number, number]> => {
        const m = /^(\d+)(?:-(\d+))?$/.exec(range);
        return m ? [[Number(m[1]), Number(m[2] ?? m[1])]] : [];
      }),
      failed: f[2]?.includes('fail') ?? false,
    });
  }
  return nodes;
}

/** The hash slot of `key` (asked of the node on `port`). */
export async function keySlot(port: number, key: string): Promise<number> {
  return Number(/:(\d+)/.exec(await rawCommand(port, ['CLUSTER', 'KEYSLOT', key]))?.[1]);
}

/** The live master serving `key` and its replica (as processes of `cluster`). */
export async function ownersOfKey(
  cluster: RedisCluster,
  key: string,
): Promise<{ master: RedisServer; replica: RedisServer }> {
  const alive = aliveServers(cluster);
  for (const server of alive) {
    try {
      const slot = await keySlot(server.port, key);
      const nodes = await clusterNodes(server.port);
      const owner = nodes.find(
        (n) => n.master && !n.failed && n.slots.some(([a, b]) => slot >= a && slot <= b),
      );
      const follower = nodes.find((n) => n.masterId === owner?.id && !n.failed);
      const master = alive.find((s) => s.port === owner?.port);
      const replica = alive.find((s) => s.port === follower?.port);
      if (master && replica) return { master, replica };
    } catch {
      // ask the next node
    }
  }
  throw new Error(`no live master with a replica serves ${key}`);
}

/** Waits until every slot-serving master has a linked replica (a just-created cluster has none yet). */
export function waitForClusterReplicas(cluster: RedisCluster, timeoutMs?: number): Promise<void> {
  return poll(
    async () => {
      const alive = aliveServers(cluster);
      const nodes = await clusterNodes(alive[0]?.port ?? 0);
      const masters = nodes.filter((n) => n.master && !n.failed && n.slots.length > 0);
      if (masters.length !== 3) return false;
      for (const master of masters) {
        const info = await rawCommand(master.port, ['INFO', 'replication']);
        if (!/connected_slaves:[1-9]/.test(info) || !/slave0:.*state=online/.test(info)) return false;
      }
      const infos = await Promise.all(alive.map((s) => rawCommand(s.port, ['CLUSTER', 'INFO'])));
      return infos.every((i) => i.includes('cluster_state:ok'));
    },
    'every cluster master to have a linked replica',
    timeoutMs,
  );
}

const killed = new Set<number>();
/** Servers started again by `respawnRedis`, by port. */
const respawned = new Map<number, RedisServer>();

/** The cluster's processes that are running now (respawned ones in place of the killed). */
function aliveServers(cluster: RedisCluster): RedisServer[] {
  return cluster.servers.map((s) => respawned.get(s.port) ?? s).filter((s) => !killed.has(s.pid));
}

/** SIGKILLs one of our Redis processes (a crash: nothing is flushed, nothing handed over). */
export function killRedis(server: RedisServer): void {
  killed.add(server.pid);
  process.kill(server.pid, 'SIGKILL');
}

/**
 * Makes `masterPort` unable to replicate to the replica `replicaPid` until the returned
 * function runs. SIGSTOP alone keeps the writes waiting in socket buffers (TOOLCHAIN
 * pitfall 14), so the replication link is dropped too; a stopped replica cannot reconnect.
 */
export async function cutReplica(masterPort: number, replicaPid: number): Promise<() => void> {
  process.kill(replicaPid, 'SIGSTOP');
  await rawCommand(masterPort, ['CLIENT', 'KILL', 'TYPE', 'replica']);
  return () => process.kill(replicaPid, 'SIGCONT');
}

/**
 * Starts `redis-server` again on a killed server's port and folder (a cluster node finds its
 * `nodes.conf` there and rejoins as a replica). `extraArgs` as the first start had them
 * (plus e.g. `--replicaof`). Stop the returned server yourself, before the original's stop().
 */
export async function respawnRedis(server: RedisServer, extraArgs: string[]): Promise<RedisServer> {
  const args = ['--port', String(server.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'];
  args.push('--dir', server.dir, '--protected-mode', 'no', '--loglevel', 'warning', ...extraArgs);
  const again = await spawnOwnRedis(args, server.port, server.dir);
  if (!again) throw new Error(`could not restart redis-server on ${server.port}`);
  respawned.set(server.port, again);
  return again;
}
