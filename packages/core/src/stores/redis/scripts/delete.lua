-- Cluster step 3 (after the announcement): deletes exactly the named sessions.
-- KEYS: idx, session key 1, session key 2, ...
-- ARGV: now, tombstoneMs, sid 1, sid 2, ...
local idx = KEYS[1]
local now, tomb = tonumber(ARGV[1]), tonumber(ARGV[2])
for i = 2, #KEYS do
  redis.call('DEL', KEYS[i])
  redis.call('ZREM', idx, ARGV[i + 1])
end
maintain_idx(idx, now, tomb)
return #KEYS - 1
