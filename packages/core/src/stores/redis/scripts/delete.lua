-- Cluster step 3 (after the announcement): deletes exactly the named sessions.
-- KEYS: idx, session key 1, session key 2, ...
-- ARGV: now, tombstoneMs, sid 1, sid 2, ...
local idx = KEYS[1]
local now, tomb = tonumber(ARGV[1]), tonumber(ARGV[2])
for i = 2, #KEYS do
  local sid = ARGV[i + 1]
  -- KEYS[i] is `<userPrefix>s:<sid>`: the same prefix names its other keys (common.lua).
  del_session(string.sub(KEYS[i], 1, #KEYS[i] - #sid - 2), sid)
  redis.call('ZREM', idx, sid)
end
maintain_idx(idx, now, tomb)
return #KEYS - 1
