-- KEYS: session key, idx, [stream (single Redis only)]
-- ARGV: single(1/0), now, tombstoneMs, retentionMs, userPrefix, uid, sid, presentedHash, nextHash,
--       sealedSuccessor, graceMs, idleMs, strict(1/0), accessExpiresAt
-- Returns { 'rotated', session } | { 'grace', sealed, session } | { 'reused', entries, victims }
--       | { 'invalid' } | { 'expired' } | { 'access_token_active' }
--       | { 'marked' } (a cluster revocation not yet announced: the client finishes it)
-- where session = { uid, roles, ca, ls, exp, abs, ip, ua, at } as stored after the change
-- (only what the caller needs: never the hashes, `old` or the sealed successor of a rotation).
-- The sealed successor lives in its own key `sc:<sid>` whose TTL is the grace window, and the
-- older generations in `o:<sid>` (TTL: the absolute timeout), so that every value of the
-- session hash stays short (listpack encoding) and no sealed value outlives its purpose.
local skey, idx, stream = KEYS[1], KEYS[2], KEYS[3]
local single = ARGV[1] == '1'
local now, tomb, retention = tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local upfx, uid, sid = ARGV[5], ARGV[6], ARGV[7]
local presented, nexth, sealed = ARGV[8], ARGV[9], ARGV[10]
local grace, idle, strict, access_exp = tonumber(ARGV[11]), tonumber(ARGV[12]), ARGV[13] == '1', tonumber(ARGV[14])

-- old = ph + old: at most 32 generations, newest first, each kept as the first GEN (16)
-- characters of its hash (96 bits: an old generation is only ever looked up to detect reuse,
-- and a chance match of 32 * 2^-96 costs nothing but a logout). A list this script wrote has
-- a space at every (GEN + 1)-th byte and needs no parsing (splitting 32 hashes apart on
-- every refresh was a third of this script's time); any other (full hashes written before
-- the truncation) is split, truncated and capped.
local GEN = 16
local function push_generation(old, ph)
  local g = string.sub(ph, 1, GEN)
  if old == '' then return g end
  local w = GEN + 1
  local regular = #old % w == GEN and #old <= 32 * w - 1
  if regular then
    for i = w, #old, w do
      if string.byte(old, i) ~= 32 then
        regular = false
        break
      end
    end
  end
  if regular then
    if #old < 32 * w - 1 then return g .. ' ' .. old end
    return g .. ' ' .. string.sub(old, 1, 31 * w - 1)
  end
  local list = { g }
  for h in string.gmatch(old, '%S+') do
    if #list < 32 and #h >= GEN then list[#list + 1] = string.sub(h, 1, GEN) end
  end
  return table.concat(list, ' ')
end

local sckey, okey = upfx .. 'sc:' .. sid, upfx .. 'o:' .. sid
local v = redis.call('HMGET', skey, 'rh', 'ph', 'pt', 'old', 'exp', 'abs', 'at', 'rv', 'uid', 'roles', 'ca', 'ls',
  'ip', 'ua')
-- Hashes written before the split keep `old` in the hash: read it from either place.
v[4] = redis.call('GET', okey) or v[4]
if not v[5] then return { 'invalid' } end
if v[8] == '1' then return { 'marked' } end
local exp = tonumber(v[5])
if exp <= now then return { 'expired' } end
local at = tonumber(v[7]) or 0
local ph = v[2] or ''

if presented == v[1] then
  if strict and at > now then return { 'access_token_active' } end
  local old = v[4] or ''
  if ph ~= '' then old = push_generation(old, ph) end
  local nexp, ls, nat = fmt(math.min(now + idle, tonumber(v[6]))), fmt(now), fmt(maxn(at, access_exp))
  redis.call('HSET', skey, 'ph', v[1], 'pt', ls, 'rh', nexth, 'ls', ls, 'exp', nexp, 'at', nat)
  redis.call('HDEL', skey, 'old', 'sc')
  redis.call('PEXPIRE', skey, fmt(maxn(tonumber(nexp) - now, 1) + tomb))
  -- The successor is only needed within the grace window (+1 s for clock slack between the
  -- caller's `now` and Redis's expiry); then a dump plus the predecessor yields nothing.
  redis.call('SET', sckey, sealed, 'PX', fmt(grace + 1000))
  if old ~= '' then
    redis.call('SET', okey, old, 'PX', fmt(maxn(tonumber(v[6]) - now, 1) + tomb))
  end
  redis.call('ZADD', idx, nexp, sid)
  maintain_idx(idx, now, tomb)
  return { 'rotated', { v[9], v[10], v[11], ls, nexp, v[6], v[13], v[14], nat } }
end

local reused = false
if ph ~= '' and presented == ph then
  if now - (tonumber(v[3]) or 0) <= grace then
    local nat = v[7] or '0'
    if access_exp > at then
      nat = fmt(access_exp)
      redis.call('HSET', skey, 'at', nat)
    end
    local sc = redis.call('GET', sckey)
    if not sc then return { 'invalid' } end
    return { 'grace', sc, { v[9], v[10], v[11], v[12], v[5], v[6], v[13], v[14], nat } }
  end
  reused = true
else
  -- Entries are GEN-character prefixes (or full hashes written before the truncation).
  for h in string.gmatch(v[4] or '', '%S+') do
    if #h >= GEN and h == string.sub(presented, 1, #h) then
      reused = true
      break
    end
  end
end
if not reused then return { 'invalid' } end
local entries = { session_entry(uid, sid, maxn(at, now)) }
revoke(single, stream, now, retention, idx, upfx, entries, { sid })
if single then maintain_idx(idx, now, tomb) end
return { 'reused', entries, { sid } }
