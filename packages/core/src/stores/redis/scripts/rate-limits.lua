-- Several rate-limit windows in one call (one Redis, not a Cluster: the keys have their own slots).
-- KEYS: rate-limit zsets
-- ARGV: now, windowMs, unique member, then one limit per key
--   or: 'undo', then one member per key (removes those hits: a login that turned out right)
-- Returns, per key in order, allowed(1/0), count including this hit, retryAfterMs (flat);
-- each window exactly as `rate-limit` would answer it, all of them atomically.
if ARGV[1] == 'undo' then
  for i, key in ipairs(KEYS) do redis.call('ZREM', key, ARGV[i + 1]) end
  return #KEYS
end
local now, window, member = tonumber(ARGV[1]), tonumber(ARGV[2]), ARGV[3]
local out = {}
for i, key in ipairs(KEYS) do
  local limit = tonumber(ARGV[i + 3])
  redis.call('ZREMRANGEBYSCORE', key, '-inf', fmt(now - window))
  local count = redis.call('ZCARD', key)
  if count < limit then
    redis.call('ZADD', key, fmt(now), member)
    redis.call('PEXPIRE', key, fmt(window))
    out[#out + 1], out[#out + 2], out[#out + 3] = 1, count + 1, 0
  else
    local oldest = redis.call('ZRANGE', key, 0, 0, 'WITHSCORES')
    redis.call('PEXPIRE', key, fmt(window))
    out[#out + 1], out[#out + 2], out[#out + 3] = 0, count + 1, maxn(tonumber(oldest[2]) + window - now, 1)
  end
end
return out
