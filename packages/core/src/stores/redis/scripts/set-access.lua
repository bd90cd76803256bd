-- KEYS: session key
-- ARGV: now, accessExpiresAt
-- Returns 1, or 0 when the session is missing, being revoked or expired.
local v = redis.call('HMGET', KEYS[1], 'exp', 'at', 'rv')
local now, access_exp = tonumber(ARGV[1]), tonumber(ARGV[2])
if not v[1] or v[3] == '1' or tonumber(v[1]) <= now then return 0 end
if access_exp > (tonumber(v[2]) or 0) then redis.call('HSET', KEYS[1], 'at', fmt(access_exp)) end
return 1
