-- KEYS: rate-limit zset
-- ARGV: now, windowMs, limit, unique member[, 'undo']
-- Returns { allowed(1/0), count including this hit, retryAfterMs }
-- With 'undo': removes the hit recorded under that member (a login that turned out right).
local key = KEYS[1]
if ARGV[5] == 'undo' then return redis.call('ZREM', key, ARGV[4]) end
local now, window, limit = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
redis.call('ZREMRANGEBYSCORE', key, '-inf', fmt(now - window))
local count = redis.call('ZCARD', key)
if count < limit then
  redis.call('ZADD', key, fmt(now), ARGV[4])
  redis.call('PEXPIRE', key, fmt(window))
  return { 1, count + 1, 0 }
end
local oldest = redis.call('ZRANGE', key, 0, 0, 'WITHSCORES')
redis.call('PEXPIRE', key, fmt(window))
return { 0, count + 1, maxn(tonumber(oldest[2]) + window - now, 1) }
