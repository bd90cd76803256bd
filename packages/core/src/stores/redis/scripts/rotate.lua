-- KEYS: session key, idx, [stream (single Redis only)]
-- ARGV: single(1/0), now, tombstoneMs, retentionMs, userPrefix, uid, sid, presentedHash, nextHash,
--       sealedSuccessor, graceMs, idleMs, strict(1/0), accessExpiresAt
-- Returns { 'rotated', session } | { 'grace', sealed, session } | { 'reused', entries, victims }
--       | { 'invalid' } | { 'expired' } | { 'access_token_active' }
local skey, idx, stream = KEYS[1], KEYS[2], KEYS[3]
local single = ARGV[1] == '1'
local now, tomb, retention = tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local upfx, uid, sid = ARGV[5], ARGV[6], ARGV[7]
local presented, nexth, sealed = ARGV[8], ARGV[9], ARGV[10]
local grace, idle, strict, access_exp = tonumber(ARGV[11]), tonumber(ARGV[12]), ARGV[13] == '1', tonumber(ARGV[14])

local v = redis.call('HMGET', skey, 'rh', 'ph', 'pt', 'old', 'exp', 'abs', 'at', 'rv', 'sc')
if not v[5] or v[8] == '1' then return { 'invalid' } end
local exp = tonumber(v[5])
if exp <= now then return { 'expired' } end
local at = tonumber(v[7]) or 0
local ph = v[2] or ''

if presented == v[1] then
  if strict and at > now then return { 'access_token_active' } end
  local old = v[4] or ''
  if ph ~= '' then
    local list = { ph }
    for h in string.gmatch(old, '%S+') do
      if #list < 32 then list[#list + 1] = h end
    end
    old = table.concat(list, ' ')
  end
  local nexp = math.min(now + idle, tonumber(v[6]))
  redis.call('HSET', skey, 'old', old, 'ph', v[1], 'pt', fmt(now), 'rh', nexth, 'sc', sealed,
    'ls', fmt(now), 'exp', fmt(nexp), 'at', fmt(maxn(at, access_exp)))
  redis.call('PEXPIRE', skey, fmt(maxn(nexp - now, 1) + tomb))
  redis.call('ZADD', idx, fmt(nexp), sid)
  maintain_idx(idx, now, tomb)
  return { 'rotated', redis.call('HGETALL', skey) }
end

local reused = false
if ph ~= '' and presented == ph then
  if now - (tonumber(v[3]) or 0) <= grace then
    if access_exp > at then redis.call('HSET', skey, 'at', fmt(access_exp)) end
    return { 'grace', v[9] or '', redis.call('HGETALL', skey) }
  end
  reused = true
else
  for h in string.gmatch(v[4] or '', '%S+') do
    if h == presented then
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
