import { createHash } from 'node:crypto';
import { DEFAULT_KEY_PREFIX, revocationStreamKey, touchQueueKeys } from '@tessera/core/internal';
import { CliError, printLine } from './io.ts';

/**
 * Commands each Tessera Redis user may run — listed one by one, no categories, so nothing
 * new is allowed by a Redis upgrade. Redis 7 checks commands inside scripts too (TOOLCHAIN
 * pitfall 12): a command added to a Lua script must be added here, and the ACL test fails
 * until it is.
 */
/** What the clients send on their own: ready check, cluster topology, ioredis's connection names. */
const CONNECTION = [
  'ping',
  'info',
  'cluster|slots',
  'cluster|shards',
  'cluster|info',
  'readonly',
  'client|setname',
];
/** The revocation feed (guards, and the auth service's own forward-auth guard). */
const FEED = ['xread', 'xrange', 'xinfo|stream', 'multi', 'exec'];
const AUTH_COMMANDS = [
  ...CONNECTION,
  ...FEED,
  // scripts (ioredis sends EVAL once per connection, then EVALSHA) and what they call
  'eval',
  'evalsha',
  'del',
  'exists',
  'hget',
  'hgetall',
  'hmget',
  'hset',
  'pexpire',
  'xadd',
  'xrevrange',
  'zadd',
  'zcard',
  'zrange',
  'zrem',
  'zremrangebyscore',
  'zrevrange',
  // revocations wait for a replica
  'wait',
  // applying guards' touches
  'xgroup|create',
  'xreadgroup',
  'xtrim',
  // Revocation scripts since issue 9: the sealed successor and older generations in their own
  // keys, retention that only extends, exact trims of expired head entries.
  'get',
  'set',
  'pttl',
  'hdel',
  // Security events (docs/events.md): the feed's fan-out group and each SSF stream's queue.
  'mget',
  'xack',
  'xautoclaim',
  'xdel',
  'xlen',
];
/** `exists`: the revocation follower on main checks the stream's existence in its loss check. */
const GUARD_COMMANDS = [...CONNECTION, ...FEED, 'exists', 'hgetall', 'xadd'];

function passwordHash(variable: string, env: NodeJS.ProcessEnv): string {
  const password = env[variable];
  if (password === undefined || password.length < 16) {
    throw new CliError(`${variable}: expected a password of at least 16 characters`);
  }
  // `#<sha256>`: Redis stores the hash; the printed commands never contain the password.
  return `#${createHash('sha256').update(password, 'utf8').digest('hex')}`;
}

/**
 * The `ACL SETUSER` lines for `tessera-auth` and `tessera-guard` (contract §1), for
 * `redis-cli` on every node (ACLs are per server: every cluster node and replica).
 *
 * - `tessera-auth`: the commands above on every `tessera:` key, no pub/sub.
 * - `tessera-guard`: read session hashes (`%R~…:s:*`, opaque mode) and the revocation stream,
 *   append to the touch queues (`%W~`: append only, not read) — it cannot create, change or
 *   delete a session, read rate-limit keys or indexes, or trim the stream.
 */
export function redisAclLines(env: NodeJS.ProcessEnv = process.env, prefix = DEFAULT_KEY_PREFIX): string[] {
  const auth = passwordHash('TESSERA_REDIS_AUTH_PASSWORD', env);
  const guard = passwordHash('TESSERA_REDIS_GUARD_PASSWORD', env);
  const allow = (commands: string[]) => ['-@all', ...commands.map((c) => `+${c}`)].join(' ');
  const guardKeys = [
    `%R~${prefix}{u:*}:s:*`,
    `%R~${revocationStreamKey(prefix)}`,
    ...touchQueueKeys(prefix).map((key) => `%W~${key}`),
  ];
  return [
    `ACL SETUSER tessera-auth reset on ${auth} resetchannels ${allow(AUTH_COMMANDS)} ~${prefix}*`,
    `ACL SETUSER tessera-guard reset on ${guard} resetchannels ${allow(GUARD_COMMANDS)} ${guardKeys.join(' ')}`,
  ];
}

export function runRedisAcl(): void {
  for (const line of redisAclLines()) printLine(line);
}
