export { freePort, freePortWithBus, isFree } from './free-port.ts';
export { type RedisServer, rawCommand, startRedis } from './redis-server.ts';
