-- Cluster step 2: appends revocation entries to the stream (its own slot).
-- KEYS: stream
-- ARGV: now, retentionMs, n1, field, value, ... (n1 strings), n2, ...
-- Returns the new entry ids.
local now, retention = tonumber(ARGV[1]), tonumber(ARGV[2])
local ids, i = {}, 3
while i <= #ARGV do
  local n = tonumber(ARGV[i])
  local fields = {}
  for j = 1, n do fields[j] = ARGV[i + j] end
  ids[#ids + 1] = announce(KEYS[1], now, retention, fields)
  i = i + n + 1
end
return ids
