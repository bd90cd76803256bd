-- KEYS: idx, [stream (single Redis only)]
-- ARGV: single(1/0), now, tombstoneMs, retentionMs, userPrefix, uid
-- Returns { liveCount, entries, victims }. Always announces one `u` entry.
local idx, stream = KEYS[1], KEYS[2]
local single = ARGV[1] == '1'
local now, tomb, retention = tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local upfx, uid = ARGV[5], ARGV[6]
local sids, until_ms, count = {}, now, 0
for _, m in ipairs(redis.call('ZRANGE', idx, 0, -1)) do
  local v = redis.call('HMGET', upfx .. 's:' .. m, 'exp', 'at', 'rv')
  if v[1] then
    sids[#sids + 1] = m
    until_ms = maxn(until_ms, tonumber(v[2]) or 0)
    if tonumber(v[1]) > now and v[3] ~= '1' then count = count + 1 end
  else
    redis.call('ZREM', idx, m)
  end
end
local entries = { user_entry(uid, sids, now, until_ms) }
revoke(single, stream, now, retention, idx, upfx, entries, sids)
if single then maintain_idx(idx, now, tomb) end
return { count, entries, sids }
