import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RedisServer, rawCommand, startRedis } from './index.ts';

describe('redis harness', () => {
  let redis: RedisServer;
  beforeAll(async () => {
    redis = await startRedis();
  });
  afterAll(async () => {
    await redis.stop();
  });

  it('spawns its own redis-server, never the machine one on 6379', async () => {
    expect(redis.port).not.toBe(6379);
    const info = await rawCommand(redis.port, ['INFO', 'server']);
    expect(info).toContain(`process_id:${redis.pid}`);
    expect(await redis.command('PING')).toContain('PONG');
  });

  it('stops by pid', async () => {
    const other = await startRedis();
    await other.stop();
    await expect(rawCommand(other.port, ['PING'])).rejects.toThrow();
  });
});
