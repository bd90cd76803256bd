import { ReplyError } from 'ioredis';
// The class is not exported from the package root.
import MaxRetriesPerRequestError from 'ioredis/built/errors/MaxRetriesPerRequestError.js';
import { describe, expect, it } from 'vitest';
import { isRedisError, redisConfigFromEnv } from './connection.ts';

describe('isRedisError', () => {
  it('knows ioredis errors by class, not by name or message', () => {
    expect(isRedisError(new ReplyError('ERR anything'))).toBe(true);
    expect(isRedisError(new MaxRetriesPerRequestError(1))).toBe(true);
    const lookalike = new Error('Redis connection lost');
    lookalike.name = 'RedisError';
    expect(isRedisError(lookalike)).toBe(false);
    expect(isRedisError(new TypeError('x'))).toBe(false);
  });
});

describe('redisConfigFromEnv: cluster seeds', () => {
  it('takes host:port seeds', () => {
    expect(redisConfigFromEnv({ TESSERA_REDIS_CLUSTER: '10.0.0.1:7000, 10.0.0.2:7001' })).toEqual({
      kind: 'cluster',
      nodes: [
        { host: '10.0.0.1', port: 7000 },
        { host: '10.0.0.2', port: 7001 },
      ],
    });
  });

  it('takes user, password and TLS from a rediss:// seed for every node', () => {
    const config = redisConfigFromEnv({
      TESSERA_REDIS_CLUSTER: 'rediss://tessera-guard:p%40ss@10.0.0.1:7000,10.0.0.2:7001',
    });
    expect(config).toEqual({
      kind: 'cluster',
      nodes: [
        { host: '10.0.0.1', port: 7000 },
        { host: '10.0.0.2', port: 7001 },
      ],
      auth: { username: 'tessera-guard', password: 'p@ss', tls: true },
    });
  });

  it('names the variable on a malformed seed', () => {
    expect(() => redisConfigFromEnv({ TESSERA_REDIS_CLUSTER: 'redis://' })).toThrow(/TESSERA_REDIS_CLUSTER/);
    expect(() => redisConfigFromEnv({ TESSERA_REDIS_CLUSTER: 'nohost' })).toThrow(/TESSERA_REDIS_CLUSTER/);
  });
});
