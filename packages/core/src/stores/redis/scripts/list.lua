-- KEYS: idx
-- ARGV: now, tombstoneMs, userPrefix
-- Returns { { sid, HGETALL }, ... } for every indexed session (the client drops expired / rv=1).
local idx = KEYS[1]
local now, tomb, upfx = tonumber(ARGV[1]), tonumber(ARGV[2]), ARGV[3]
redis.call('ZREMRANGEBYSCORE', idx, '-inf', fmt(now))
local out = {}
for _, m in ipairs(redis.call('ZRANGE', idx, 0, -1)) do
  local h = redis.call('HGETALL', upfx .. 's:' .. m)
  if #h == 0 then
    redis.call('ZREM', idx, m)
  else
    out[#out + 1] = { m, h }
  end
end
maintain_idx(idx, now, tomb)
return out
