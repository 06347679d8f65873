/**
 * Lua scripts of the Redis `CacheStore`. A script runs atomically, and all
 * keys of one namespace share a hash slot, so each call is all-or-nothing
 * on a single server and on a Redis Cluster alike.
 *
 * Expiry is relative: entries get `PX <ttl>`, so Redis counts their life by
 * its own clock, and the expiry index is scored by Redis's `TIME` + ttl. The
 * app's clock never decides when something expires in Redis.
 */

/**
 * Redis's own clock in ms, read once per script: the expiry index is scored
 * and trimmed by it. `due(ttl)` is an index score for a key that expires in
 * `ttl` ms: the whole second after its expiry, plus one (so 1–2 s late). A key
 * rewritten within the same second keeps its score, which spares Redis moving
 * it in the sorted set; the index holds an expired key at most 2 s longer.
 */
const NOW = `local t = redis.call('TIME')
local now = t[1] * 1000 + math.floor(t[2] / 1000)
local function due(ttl) return (t[1] + 2 + math.floor(ttl / 1000)) * 1000 end`;

/** Drops up to N expired members from both indexes; `limit` a Lua expression. */
const trim = (limit: string) => `local expired = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', now, 'LIMIT', 0, ${limit})
if #expired > 0 then
  redis.call('ZREM', KEYS[1], unpack(expired))
  redis.call('ZREM', KEYS[2], unpack(expired))
end`;

/**
 * KEYS: index, expiry index. ARGV: entry key prefix, number of puts P,
 * P × (member, value, ttl in ms), then one member per delete. An entry's key
 * is the prefix and its member (same hash tag: same slot), built here so the
 * client sends each key once.
 *
 * One put is five Redis calls (TIME, SET, two ZADDs, PEXPIRETIME): a Lua call
 * costs the server more than the command alone, so the script does no more.
 * About one write in eight (picked by TIME's microseconds) also drops up to 64
 * expired members from the indexes (the sweep does the rest, see
 * `NamespaceSweeper`). The indexes' own TTL is kept past their longest entry:
 * an index nobody writes to or sweeps any more disappears by itself. It is set
 * with slack (twice the longest TTL written), so most writes leave it alone.
 */
export const WRITE = `${NOW}
local prefix = ARGV[1]
local last = 2 + 3 * tonumber(ARGV[2])
local longest = 0
for a = 3, last, 3 do
  local ttl = tonumber(ARGV[a + 2])
  redis.call('SET', prefix .. ARGV[a], ARGV[a + 1], 'PX', ttl)
  redis.call('ZADD', KEYS[1], 0, ARGV[a])
  redis.call('ZADD', KEYS[2], due(ttl), ARGV[a])
  if ttl > longest then longest = ttl end
end
for a = last + 1, #ARGV do
  redis.call('DEL', prefix .. ARGV[a])
  redis.call('ZREM', KEYS[1], ARGV[a])
  redis.call('ZREM', KEYS[2], ARGV[a])
end
if t[2] % 8 == 0 then
${trim('64')}
end
if longest > 0 and redis.call('PEXPIRETIME', KEYS[2]) < now + longest then
  redis.call('PEXPIREAT', KEYS[1], now + 2 * longest)
  redis.call('PEXPIREAT', KEYS[2], now + 2 * longest)
end
return 1`;

/**
 * KEYS: index, expiry index. ARGV: most members to drop.
 * Drops expired members from both indexes. Returns how many it dropped, and
 * the ms until the next member expires (-1: the indexes are empty, and gone).
 */
export const SWEEP = `${NOW}
${trim('tonumber(ARGV[1])')}
local first = redis.call('ZRANGE', KEYS[2], 0, 0, 'WITHSCORES')
if not first[2] then return { #expired, -1 } end
return { #expired, math.max(0, tonumber(first[2]) - now) }`;

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
