package store

import "github.com/redis/go-redis/v9"

// The scripts change one key's index atomically, with what follows from
// it: retiring the chunks of the bodies they drop, the tag sets of what
// they add, and the keys' expiry. They name chunk and tag keys that are
// not in KEYS, which standalone Redis allows (Redis Cluster does not).
// Expiry is only ever extended with PEXPIRETIME (Redis 7.0 or later), so
// a key lives until its latest variant expires.

// luaLib is shared by the scripts. digits strips leading zeros (Redis
// refuses them in integers); hdr parses a header (see header); retire
// gives a dropped body's chunks at most grace milliseconds more, so that
// a reader already streaming it can finish; extend makes key live at
// least until the Unix millisecond exp.
const luaLib = `
local function digits(s)
  s = string.gsub(s, '^0+', '')
  if s == '' then return '0' end
  return s
end
local function hdr(v)
  local h = {exp = tonumber(string.sub(v, 2, 17)), expstr = digits(string.sub(v, 2, 17)),
    body = string.sub(v, 18, 49), chunks = tonumber(string.sub(v, 50, 59)), tags = {}}
  local n = tonumber(string.sub(v, 76, 79))
  local pos = 80
  for i = 1, n do
    local l = tonumber(string.sub(v, pos, pos + 5))
    h.tags[i] = string.sub(v, pos + 6, pos + 5 + l)
    pos = pos + 6 + l
  end
  h.meta = pos
  return h
end
local function retire(prefix, h, grace)
  for n = 0, h.chunks - 1 do
    local k = prefix .. 'b:' .. h.body .. ':' .. n
    local ttl = redis.call('PTTL', k)
    if ttl == -1 or ttl > grace then redis.call('PEXPIRE', k, grace) end
  end
end
local function extend(key, exp, expstr)
  local at = redis.call('PEXPIRETIME', key)
  if at == -1 or at < exp then redis.call('PEXPIREAT', key, expstr) end
end
local function hastag(h, tag)
  for _, t in ipairs(h.tags) do if t == tag then return true end end
  return false
end
`

// commitScript stores a variant: KEYS[1] the index; ARGV prefix, variant
// ID, header, MaxVariants, grace ms, the cache key (for the tag sets) and
// now in Unix ms. It drops the variant it replaces, expired ones, and
// past MaxVariants the one that expires first (maybe the new one).
var commitScript = redis.NewScript(luaLib + `
local idx, prefix, id, new = KEYS[1], ARGV[1], ARGV[2], ARGV[3]
local maxv, grace, key, now = tonumber(ARGV[4]), tonumber(ARGV[5]), ARGV[6], tonumber(ARGV[7])
local old = redis.call('HGET', idx, id)
if old then retire(prefix, hdr(old), grace) end
redis.call('HSET', idx, id, new)
local all = redis.call('HGETALL', idx)
local live = {}
for i = 1, #all, 2 do
  local h = hdr(all[i + 1])
  h.id = all[i]
  if h.exp <= now then
    redis.call('HDEL', idx, h.id)
    retire(prefix, h, grace)
  else
    live[#live + 1] = h
  end
end
while #live > maxv do
  local first = 1
  for i = 2, #live do if live[i].exp < live[first].exp then first = i end end
  redis.call('HDEL', idx, live[first].id)
  retire(prefix, live[first], grace)
  table.remove(live, first)
end
for _, h in ipairs(live) do
  extend(idx, h.exp, h.expstr)
  if h.id == id then
    for _, t in ipairs(h.tags) do
      local tk = prefix .. 't:' .. t
      redis.call('SADD', tk, key)
      extend(tk, h.exp, h.expstr)
    end
  end
end
return #live
`)

// updateScript gives a variant new metadata and expiry, keeping its body:
// KEYS[1] the index; ARGV prefix, variant ID, expiry (16 digits), meta,
// grace ms, the cache key and now in Unix ms. A variant whose chunks are
// gone is dropped. It returns 1 if the variant was updated.
var updateScript = redis.NewScript(luaLib + `
local idx, prefix, id, expstr, meta = KEYS[1], ARGV[1], ARGV[2], ARGV[3], ARGV[4]
local grace, key, now = tonumber(ARGV[5]), ARGV[6], tonumber(ARGV[7])
local old = redis.call('HGET', idx, id)
if not old then return 0 end
local h = hdr(old)
local exp, at = tonumber(expstr), digits(expstr)
local whole = exp > now
if whole then
  for n = 0, h.chunks - 1 do
    if redis.call('PEXPIREAT', prefix .. 'b:' .. h.body .. ':' .. n, at) == 0 then whole = false end
  end
end
if not whole then
  redis.call('HDEL', idx, id)
  retire(prefix, h, grace)
  return 0
end
redis.call('HSET', idx, id, '1' .. expstr .. string.sub(old, 18, h.meta - 1) .. meta)
extend(idx, exp, at)
for _, t in ipairs(h.tags) do extend(prefix .. 't:' .. t, exp, at) end
return 1
`)

// deleteScript drops a key: KEYS[1] the index; ARGV prefix and grace ms.
// It returns how many variants it dropped.
var deleteScript = redis.NewScript(luaLib + `
local idx, prefix, grace = KEYS[1], ARGV[1], tonumber(ARGV[2])
local all = redis.call('HGETALL', idx)
for i = 2, #all, 2 do retire(prefix, hdr(all[i]), grace) end
redis.call('DEL', idx)
return #all / 2
`)

// purgeTagScript drops a key's variants tagged with a tag and the key
// from the tag's set: KEYS[1] the index, KEYS[2] the tag set; ARGV
// prefix, grace ms, the tag and the cache key. It returns how many
// variants it dropped.
var purgeTagScript = redis.NewScript(luaLib + `
local idx, tk, prefix, grace, tag, key = KEYS[1], KEYS[2], ARGV[1], tonumber(ARGV[2]), ARGV[3], ARGV[4]
local all = redis.call('HGETALL', idx)
local n = 0
for i = 1, #all, 2 do
  local h = hdr(all[i + 1])
  if hastag(h, tag) then
    redis.call('HDEL', idx, all[i])
    retire(prefix, h, grace)
    n = n + 1
  end
end
redis.call('SREM', tk, key)
return n
`)
