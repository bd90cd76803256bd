// Fills a bench Redis with many live sessions in the store's real layout, fast: a template
// session made by the real auth service (HGETALL of its hash, PTTL of its keys) is copied by
// a Lua bulk loader, 2,000 sessions per call, each with its own user, session id and secret
// hash (the opaque tokens of the copies are returned for loading a guard with them). Single
// Redis only (the script writes keys it does not declare, which a Cluster refuses).
import { randomBytes } from 'node:crypto';
import { formatOpaqueToken, hashSecret, revocationFields, revocationStreamKey } from '@tessera/core/internal';
import { Redis } from 'ioredis';

const PREFIX = 'tessera:';
const BATCH = 2000;

const LOADER = `
local prefix = ARGV[1]
local template = cjson.decode(ARGV[2])
local sessionTtl = tonumber(ARGV[3])
local indexTtl = tonumber(ARGV[4])
local score = ARGV[5]
local n = 0
for i = 6, #ARGV, 3 do
  local userId, sessionId, rh = ARGV[i], ARGV[i + 1], ARGV[i + 2]
  local key = prefix .. '{u:' .. userId .. '}:s:' .. sessionId
  local fields = {}
  for name, value in pairs(template) do
    if name == 'uid' then value = userId elseif name == 'rh' then value = rh end
    fields[#fields + 1] = name
    fields[#fields + 1] = value
  end
  redis.call('HSET', key, unpack(fields))
  redis.call('PEXPIRE', key, sessionTtl)
  local index = prefix .. '{u:' .. userId .. '}:idx'
  redis.call('ZADD', index, score, sessionId)
  redis.call('PEXPIRE', index, indexTtl)
  n = n + 1
end
return n
`;

export interface Template {
  fields: Record<string, string>;
  sessionTtlMs: number;
  indexTtlMs: number;
  exp: string;
}

/** Reads a real session (made by the auth service) as the template of the bulk copies. */
export async function readTemplate(redisUrl: string, sessionId: string): Promise<Template> {
  const redis = new Redis(redisUrl);
  try {
    const userId = sessionId.slice(0, sessionId.indexOf('.'));
    const key = `${PREFIX}{u:${userId}}:s:${sessionId}`;
    const fields = await redis.hgetall(key);
    if (!fields.uid) throw new Error(`no session hash at ${key}`);
    return {
      fields,
      sessionTtlMs: await redis.pttl(key),
      indexTtlMs: await redis.pttl(`${PREFIX}{u:${userId}}:idx`),
      exp: fields.exp ?? String(Date.now() + 86_400_000),
    };
  } finally {
    redis.disconnect();
  }
}

/**
 * Adds sessions `from` … `to - 1` (users `scale<i>`, one session each) copied from `template`;
 * returns the opaque session tokens of the first `keepTokens` of them.
 */
export async function addSessions(
  redisUrl: string,
  template: Template,
  from: number,
  to: number,
  keepTokens = 0,
): Promise<string[]> {
  const redis = new Redis(redisUrl);
  const tokens: string[] = [];
  try {
    const json = JSON.stringify(template.fields);
    for (let start = from; start < to; start += BATCH) {
      const args: string[] = [
        PREFIX,
        json,
        String(template.sessionTtlMs),
        String(template.indexTtlMs),
        template.exp,
      ];
      for (let i = start; i < Math.min(to, start + BATCH); i++) {
        const userId = `scale${i}`;
        const sessionId = `${userId}.${randomBytes(16).toString('base64url')}`;
        const secret = randomBytes(32).toString('base64url');
        args.push(userId, sessionId, hashSecret(secret));
        if (tokens.length < keepTokens) tokens.push(formatOpaqueToken('session', sessionId, secret));
      }
      await redis.eval(LOADER, 0, ...args);
    }
    return tokens;
  } finally {
    redis.disconnect();
  }
}

/** Appends `count` session revocations (of sessions that do not exist) to the revocation stream. */
export async function addRevocations(redisUrl: string, from: number, to: number): Promise<void> {
  const redis = new Redis(redisUrl);
  try {
    const key = revocationStreamKey();
    const until = Date.now() + 10 * 60_000;
    for (let i = from; i < to; i += 1000) {
      const pipeline = redis.pipeline();
      for (let j = i; j < Math.min(to, i + 1000); j++) {
        const userId = `gone${j}`;
        pipeline.xadd(
          key,
          '*',
          ...revocationFields({ kind: 'session', userId, sessionId: `${userId}.${'A'.repeat(22)}`, until }),
        );
      }
      await pipeline.exec();
    }
    await redis.pexpire(key, 11 * 60_000);
  } finally {
    redis.disconnect();
  }
}

/** Redis `used_memory` and key count. */
export async function redisMemory(redisUrl: string): Promise<{ usedMemory: number; keys: number }> {
  const redis = new Redis(redisUrl);
  try {
    const info = await redis.info('memory');
    const used = Number(/used_memory:(\d+)/.exec(info)?.[1] ?? 0);
    return { usedMemory: used, keys: await redis.dbsize() };
  } finally {
    redis.disconnect();
  }
}
