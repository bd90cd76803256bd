-- KEYS: idx, session key, [stream (single Redis only)]
-- ARGV: single(1/0), now, tombstoneMs, retentionMs, userPrefix, uid, sid, concurrency, force(1/0),
--       maxSessions, field, value, ...
-- Returns { 'exists' } or { 'ok', revokedSids, entries, victims }
local idx, skey, stream = KEYS[1], KEYS[2], KEYS[3]
local single = ARGV[1] == '1'
local now, tomb, retention = tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local upfx, uid, sid = ARGV[5], ARGV[6], ARGV[7]
local policy, force, max = ARGV[8], ARGV[9] == '1', tonumber(ARGV[10])

redis.call('ZREMRANGEBYSCORE', idx, '-inf', fmt(now))
local bound = (max > 0 and max < SESSION_CEILING) and max or SESSION_CEILING
-- One Redis (no half-done revocation is ever left: `rv=1` is a Cluster's), the `allow` policy,
-- and room under the bound even if every index member were live: nothing can be revoked, so
-- no member is read (a login costs the same with 1 or 1000 sessions of the user).
local members = {}
if not (single and policy == 'allow' and redis.call('ZCARD', idx) < bound) then
  members = redis.call('ZRANGE', idx, 0, -1)
end
local live, pending = {}, {}
for _, m in ipairs(members) do
  if m ~= sid then
    local v = redis.call('HMGET', upfx .. 's:' .. m, 'exp', 'rv', 'ca', 'at')
    if not v[1] then
      redis.call('ZREM', idx, m)
    elseif v[2] == '1' then
      pending[#pending + 1] = { m, tonumber(v[4]) or 0 }
    elseif tonumber(v[1]) > now then
      live[#live + 1] = { m, tonumber(v[3]) or 0, tonumber(v[4]) or 0 }
    end
  end
end
if policy == 'reject' and #live > 0 and not force then return { 'exists' } end

-- Sessions whose revocation an earlier call started (cluster) are finished here.
local entries, victims, revoked = {}, {}, {}
for _, p in ipairs(pending) do
  entries[#entries + 1] = session_entry(uid, p[1], maxn(p[2], now))
  victims[#victims + 1] = p[1]
end
if policy == 'replace' or policy == 'reject' then
  if #live > 0 then
    local until_ms = now
    for _, l in ipairs(live) do
      revoked[#revoked + 1] = l[1]
      victims[#victims + 1] = l[1]
      until_ms = maxn(until_ms, l[3])
    end
    entries[#entries + 1] = user_entry(uid, revoked, now, until_ms)
  end
elseif #live + 1 > bound then
  -- maxSessions, or the hard ceiling when unset or larger: the oldest sessions go.
  if max <= 0 or max > SESSION_CEILING then max = SESSION_CEILING end
  table.sort(live, function(a, b)
    if a[2] == b[2] then return a[1] < b[1] end
    return a[2] < b[2]
  end)
  for i = 1, #live + 1 - max do
    revoked[#revoked + 1] = live[i][1]
    victims[#victims + 1] = live[i][1]
    entries[#entries + 1] = session_entry(uid, live[i][1], maxn(live[i][3], now))
  end
end
revoke(single, stream, now, retention, idx, upfx, entries, victims)

del_session(upfx, sid)
redis.call('HSET', skey, unpack(ARGV, 11))
local exp = tonumber(redis.call('HGET', skey, 'exp'))
redis.call('PEXPIRE', skey, fmt(maxn(exp - now, 1) + tomb))
redis.call('ZADD', idx, fmt(exp), sid)
maintain_idx(idx, now, tomb)
return { 'ok', revoked, entries, victims }
