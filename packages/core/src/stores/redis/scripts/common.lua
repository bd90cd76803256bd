-- Shared helpers, prepended to every Tessera script (see docs/redis-layout.md).
-- Numbers are formatted with %d: Lua's tostring() would print 1.767e+12.
local function fmt(n) return string.format('%d', n) end
local function maxn(a, b) if a > b then return a end return b end

-- Appends one revocation entry. Ids use the caller's clock (`<ms>-*`), kept monotonic by
-- never going below the stream's last id; the stream is trimmed by age and given a TTL.
local function announce(stream, now, retention, fields)
  local ms = now
  local top = redis.call('XREVRANGE', stream, '+', '-', 'COUNT', 1)
  if top[1] then
    local last = tonumber(string.match(top[1][1], '^(%d+)'))
    if last and last > ms then ms = last end
  end
  local args = { stream, 'MINID', '~', fmt(maxn(now - retention, 0)), fmt(ms) .. '-*' }
  for i = 1, #fields do args[#args + 1] = fields[i] end
  local id = redis.call('XADD', unpack(args))
  redis.call('PEXPIRE', stream, fmt(retention))
  return id
end

local function session_entry(uid, sid, until_ms)
  return { 'k', 's', 'uid', uid, 'sid', sid, 'until', fmt(until_ms) }
end

local function user_entry(uid, sids, before, until_ms)
  return { 'k', 'u', 'uid', uid, 'sids', table.concat(sids, ' '), 'before', fmt(before), 'until', fmt(until_ms) }
end

-- Prunes expired index members and sets the index TTL to its latest expiry + tombstone.
local function maintain_idx(idx, now, tomb)
  redis.call('ZREMRANGEBYSCORE', idx, '-inf', fmt(now))
  local top = redis.call('ZREVRANGE', idx, 0, 0, 'WITHSCORES')
  if top[2] then
    redis.call('PEXPIRE', idx, fmt(maxn(tonumber(top[2]) - now, 1) + tomb))
  end
end

-- Single Redis: announce every entry, then delete the sessions (one atomic script).
-- Cluster (stream in another slot): mark the sessions rv=1; the client announces on the
-- stream slot and then runs delete.lua.
local function revoke(single, stream, now, retention, idx, upfx, entries, sids)
  if single then
    for i = 1, #entries do announce(stream, now, retention, entries[i]) end
    for i = 1, #sids do
      redis.call('DEL', upfx .. 's:' .. sids[i])
      redis.call('ZREM', idx, sids[i])
    end
  else
    for i = 1, #sids do
      local key = upfx .. 's:' .. sids[i]
      if redis.call('EXISTS', key) == 1 then redis.call('HSET', key, 'rv', '1') end
    end
  end
end
