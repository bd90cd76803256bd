import { createHash } from 'node:crypto';
import { revocationStreamKey } from '../revocations/entry-format.ts';

/** Key names of the Redis layout (docs/redis-layout.md). Every key of a user shares `{u:<userId>}`. */
export interface RedisKeys {
  /** `<prefix>{u:<userId>}:` — the user's key prefix (hash tag included). */
  user(userId: string): string;
  session(userId: string, sessionId: string): string;
  index(userId: string): string;
  rateLimit(key: string): string;
  stream: string;
}

export function createRedisKeys(prefix: string): RedisKeys {
  const user = (userId: string) => `${prefix}{u:${userId}}:`;
  return {
    user,
    session: (userId, sessionId) => `${user(userId)}s:${sessionId}`,
    index: (userId) => `${user(userId)}idx`,
    rateLimit: (key) => `${prefix}{rl:${createHash('sha256').update(key).digest('base64url')}}`,
    stream: revocationStreamKey(prefix),
  };
}
