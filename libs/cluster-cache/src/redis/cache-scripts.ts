/**
 * Lua scripts of the Redis `CacheStore`. A script runs atomically, and all
 * keys of one namespace share a hash slot, so each call is all-or-nothing
 * on a single server and on a Redis Cluster alike.
 */

/** Redis's own clock in ms: entries expire by it, so the index is trimmed by it too. */
const NOW = `local function now() local t = redis.call('TIME') return t[1] * 1000 + math.floor(t[2] / 1000) end`;

/**
 * KEYS: index, expiry index, then one entry key per change.
 * ARGV: number of puts P; P × (member, value, expiresAt); then one member per delete.
 * Also drops a few expired keys from the index, so it stays about the size of the live data.
 */
export const WRITE = `${NOW}
local puts = tonumber(ARGV[1])
local a = 2
for i = 3, #KEYS do
  if i - 2 <= puts then
    redis.call('SET', KEYS[i], ARGV[a + 1], 'PXAT', ARGV[a + 2])
    redis.call('ZADD', KEYS[1], 0, ARGV[a])
    redis.call('ZADD', KEYS[2], ARGV[a + 2], ARGV[a])
    a = a + 3
  else
    redis.call('DEL', KEYS[i])
    redis.call('ZREM', KEYS[1], ARGV[a])
    redis.call('ZREM', KEYS[2], ARGV[a])
    a = a + 1
  end
end
local expired = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', now(), 'LIMIT', 0, 64)
if #expired > 0 then
  redis.call('ZREM', KEYS[1], unpack(expired))
  redis.call('ZREM', KEYS[2], unpack(expired))
end
return 1`;

/**
 * KEYS: index. ARGV: ZRANGEBYLEX min and max, entry key prefix.
 * Returns member, value, member, value … of the live entries in the range:
 * one consistent snapshot (a concurrent putMany is seen whole or not at all).
 */
export const ALL = `
local out = {}
for _, member in ipairs(redis.call('ZRANGEBYLEX', KEYS[1], ARGV[1], ARGV[2])) do
  local value = redis.call('GET', ARGV[3] .. member)
  if value then
    out[#out + 1] = member
    out[#out + 1] = value
  end
end
return out`;
