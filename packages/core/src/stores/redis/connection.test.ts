import { ReplyError } from 'ioredis';
// The class is not exported from the package root.
import MaxRetriesPerRequestError from 'ioredis/built/errors/MaxRetriesPerRequestError.js';
import { describe, expect, it } from 'vitest';
import { isRedisError } from './connection.ts';

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
