-- KEYS: session key, idx, [stream (single Redis only)]
-- ARGV: single(1/0), now, tombstoneMs, retentionMs, userPrefix, uid, sid
-- Returns { 0 } when there is no such session, else { 1, entries, victims }.
local skey, idx, stream = KEYS[1], KEYS[2], KEYS[3]
local single = ARGV[1] == '1'
local now, tomb, retention = tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local upfx, uid, sid = ARGV[5], ARGV[6], ARGV[7]
local v = redis.call('HMGET', skey, 'exp', 'at')
if not v[1] then
  redis.call('ZREM', idx, sid)
  return { 0 }
end
local entries = { session_entry(uid, sid, maxn(tonumber(v[2]) or 0, now)) }
revoke(single, stream, now, retention, idx, upfx, entries, { sid })
if single then maintain_idx(idx, now, tomb) end
return { 1, entries, { sid } }
