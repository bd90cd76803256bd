-- KEYS: session key, idx
-- ARGV: now, tombstoneMs, sid, idleMs, minIntervalMs
-- Returns the session (HGETALL), nil when missing or expired, or 'rv' when marked for a
-- cluster revocation not yet announced (the client then finishes it).
local skey, idx = KEYS[1], KEYS[2]
local now, tomb, sid = tonumber(ARGV[1]), tonumber(ARGV[2]), ARGV[3]
local idle, min_interval = tonumber(ARGV[4]), tonumber(ARGV[5])
local v = redis.call('HMGET', skey, 'exp', 'ls', 'abs', 'rv')
if v[1] and v[4] == '1' then return 'rv' end
if not v[1] or tonumber(v[1]) <= now then return false end
if now - (tonumber(v[2]) or 0) >= min_interval then
  local nexp = math.min(now + idle, tonumber(v[3]))
  redis.call('HSET', skey, 'ls', fmt(now), 'exp', fmt(nexp))
  redis.call('PEXPIRE', skey, fmt(maxn(nexp - now, 1) + tomb))
  redis.call('ZADD', idx, fmt(nexp), sid)
  maintain_idx(idx, now, tomb)
end
return redis.call('HGETALL', skey)
