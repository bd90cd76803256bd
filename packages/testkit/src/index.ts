export { freePort } from './free-port.ts';
export { type RedisCluster, startRedisCluster } from './redis-cluster.ts';
export { type RedisSentinel, startRedisSentinel } from './redis-sentinel.ts';
export { type RedisServer, rawCommand, startRedis } from './redis-server.ts';
export {
  clusterNodes,
  cutReplica,
  killRedis,
  ownersOfKey,
  respawnRedis,
  waitForClusterReplicas,
  waitForReplicaLink,
} from './replication.ts';
export { startTcpProxy, type TcpProxy } from './tcp-proxy.ts';
export { BROWSER_USER_AGENTS } from './user-agents.ts';
export { waitFor } from './wait-for.ts';
