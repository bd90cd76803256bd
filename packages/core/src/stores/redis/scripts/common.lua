-- Shared helpers, prepended to every Tessera script (see docs/redis-layout.md).
-- Numbers are formatted with %d: Lua's tostring() would print 1.767e+12.
local function fmt(n) return string.format('%d', n) end
-- Hard ceiling on one user's live sessions (SESSION_CEILING in store-input.ts).
local SESSION_CEILING = 1000
local function maxn(a, b) if a > b then return a end return b end

-- Every revocation entry stays readable until its own `until` (the last access token it
-- concerns expires), at least MIN_KEEP after it was written, plus KEEP_MARGIN (clock
-- tolerance and slack), whoever appends later and whatever their own retention: writers only
-- trim entries whose keep time has passed, and only ever extend the stream's TTL.
local MIN_KEEP, KEEP_MARGIN = 600000, 60000

local function entry_until(fields)
  for i = 1, #fields - 1, 2 do
    if fields[i] == 'until' then return tonumber(fields[i + 1]) or 0 end
  end
  return 0
end

-- Drops expired entries from the stream's head: at most 100 looked at per append (bounded
-- work), and none past the first entry still to keep (ids are in time order, `until` is not).
local function trim_expired(stream, now)
  local head = redis.call('XRANGE', stream, '-', '+', 'COUNT', 100)
  local last = nil
  for i = 1, #head do
    local id, fields = head[i][1], head[i][2]
    local ms = tonumber(string.match(id, '^(%d+)')) or 0
    if maxn(entry_until(fields), ms + MIN_KEEP) + KEEP_MARGIN > now then break end
    last = id
  end
  if last then
    local ms, seq = string.match(last, '^(%d+)-(%d+)$')
    redis.call('XTRIM', stream, 'MINID', ms .. '-' .. fmt(tonumber(seq) + 1))
  end
end

-- Appends one revocation entry. Ids use the caller's clock (`<ms>-*`), kept monotonic by
-- never going below the stream's last id; expired entries are trimmed (trim_expired) and the
-- stream's TTL is extended, never shortened, to cover this entry (and `retention`).
local function announce(stream, now, retention, fields)
  local ms = now
  local top = redis.call('XREVRANGE', stream, '+', '-', 'COUNT', 1)
  if top[1] then
    local last = tonumber(string.match(top[1][1], '^(%d+)'))
    if last and last > ms then ms = last end
  end
  trim_expired(stream, now)
  local args = { stream, fmt(ms) .. '-*' }
  for i = 1, #fields do args[#args + 1] = fields[i] end
  local id = redis.call('XADD', unpack(args))
  local keep = maxn(maxn(entry_until(fields) - now, MIN_KEEP) + KEEP_MARGIN, retention)
  local ttl = redis.call('PTTL', stream)
  if ttl < keep then redis.call('PEXPIRE', stream, fmt(keep)) end
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

-- A session's keys: its hash `s:<sid>`, its sealed successor `sc:<sid>` (TTL = grace window)
-- and its older refresh generations `o:<sid>`; all in the user's slot.
local function del_session(upfx, sid)
  redis.call('DEL', upfx .. 's:' .. sid, upfx .. 'sc:' .. sid, upfx .. 'o:' .. sid)
end

-- Single Redis: announce every entry, then delete the sessions (one atomic script).
-- Cluster (stream in another slot): mark the sessions rv=1; the client announces on the
-- stream slot and then runs delete.lua.
local function revoke(single, stream, now, retention, idx, upfx, entries, sids)
  if single then
    for i = 1, #entries do announce(stream, now, retention, entries[i]) end
    for i = 1, #sids do
      del_session(upfx, sids[i])
      redis.call('ZREM', idx, sids[i])
    end
  else
    for i = 1, #sids do
      local key = upfx .. 's:' .. sids[i]
      if redis.call('EXISTS', key) == 1 then redis.call('HSET', key, 'rv', '1') end
    end
  end
end
