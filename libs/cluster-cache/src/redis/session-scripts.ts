/**
 * Lua scripts of the Redis `SessionStore`'s writes. Every key a call touches
 * shares the user's hash tag, so each write is one atomic script, on one
 * server or one Redis Cluster slot. Reads need no script: a session is one
 * `GET` (see `RedisSessionCache.get`).
 *
 * A session is stored as `=<expiresAt>;<createdAt>;<user id JSON> NUL <metadata>`
 * (times in ms on the app's clock, as the app reads them back; metadata in the
 * value codec) with a Redis TTL: `PX <ttl>`, counted by Redis's own clock, so
 * a skewed app clock neither loses nor shortens a session. A rotated token's
 * handle holds `@<new handle>` for the rotation grace. A user's index is a
 * sorted set of handles scored by expiry on Redis's clock (`TIME` + ttl), and
 * expires with its last session. ARGV[1] of every script is the tag's key
 * base (see `SessionKeys`).
 */
const PRELUDE = `
local base = ARGV[1]
local function now() local t = redis.call('TIME') return t[1] * 1000 + math.floor(t[2] / 1000) end
local function isPointer(v) return string.byte(v, 1) == 64 end
-- Where the header of a record ends: the ';' after createdAt.
local function headerEnd(v) return (string.find(v, ';', string.find(v, ';', 2, true) + 1, true)) end
local function userIndex(v)
  local from = headerEnd(v) + 1
  return base .. 'u:' .. string.sub(v, from, string.find(v, '\\0', from, true) - 1)
end
-- The live session under a handle, following a rotation pointer once if asked: key, value, handle.
local function resolve(handle, follow)
  local key = base .. 's:' .. handle
  local v = redis.call('GET', key)
  if v and isPointer(v) then
    if not follow then return nil end
    handle = string.sub(v, 2)
    key = base .. 's:' .. handle
    v = redis.call('GET', key)
    if v and isPointer(v) then return nil end
  end
  if not v then return nil end
  return { key, v, handle }
end
-- Drops expired handles from an index and lets the index expire with its last session.
local function keepIndex(index, at)
  redis.call('ZREMRANGEBYSCORE', index, '-inf', at)
  local last = redis.call('ZRANGE', index, -1, -1, 'WITHSCORES')
  if last[2] then redis.call('PEXPIREAT', index, last[2]) end
end
`;

/** KEYS: session, user index. ARGV: base, handle, record, ttl. */
export const CREATE = `${PRELUDE}
local ttl = tonumber(ARGV[4])
local at = now()
redis.call('SET', KEYS[1], ARGV[3], 'PX', ttl)
redis.call('ZADD', KEYS[2], at + ttl, ARGV[2])
keepIndex(KEYS[2], at)
return 1`;

/**
 * KEYS: session. ARGV: base, handle, ttl, new expiresAt (app clock, as text).
 * Renews the session a token resolves to; returns handle, record or nil.
 */
export const TOUCH = `${PRELUDE}
local s = resolve(ARGV[2], true)
if not s then return nil end
local ttl = tonumber(ARGV[3])
local v = '=' .. ARGV[4] .. string.sub(s[2], (string.find(s[2], ';', 2, true)))
redis.call('SET', s[1], v, 'PX', ttl)
local index = userIndex(v)
local at = now()
redis.call('ZADD', index, at + ttl, s[3])
keepIndex(index, at)
return { s[3], v }`;

/** KEYS: session. ARGV: base, handle. Ends the session a token resolves to (and its pointer); 1 if there was one. */
export const DELETE = `${PRELUDE}
local s = resolve(ARGV[2], true)
redis.call('DEL', KEYS[1])
if not s then return 0 end
redis.call('DEL', s[1])
redis.call('ZREM', userIndex(s[2]), s[3])
return 1`;

/** KEYS: session, user index. ARGV: base, handle. Ends one session of that user. */
export const REVOKE = `${PRELUDE}
local s = resolve(ARGV[2], false)
if s and userIndex(s[2]) == KEYS[2] then redis.call('DEL', KEYS[1]) end
redis.call('ZREM', KEYS[2], ARGV[2])
return 1`;

/** KEYS: user index. ARGV: base. Returns handle, record … of the user's live sessions. */
export const LIST = `${PRELUDE}
local out = {}
for _, handle in ipairs(redis.call('ZRANGEBYSCORE', KEYS[1], '(' .. now(), '+inf')) do
  local s = resolve(handle, false)
  if s then
    out[#out + 1] = handle
    out[#out + 1] = s[2]
  end
end
return out`;

/** KEYS: user index. ARGV: base. Ends every session of the user; returns how many were live. */
export const REVOKE_ALL = `${PRELUDE}
local count = 0
for _, handle in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do
  if resolve(handle, false) then count = count + 1 end
  redis.call('DEL', base .. 's:' .. handle)
end
redis.call('DEL', KEYS[1])
return count`;

/**
 * KEYS: old session, new session. ARGV: base, old handle, new handle, ttl,
 * grace (ms), new expiresAt, new createdAt (app clock, as text).
 * Moves a session to a new handle (same user and metadata, new times) and
 * leaves a pointer at the old one, only if it has not moved yet. Returns
 * 'rotated', handle, record; or 'moved', handle, record of the session the
 * old handle already points to (another caller rotated it first); or nil.
 */
export const ROTATE = `${PRELUDE}
local v = redis.call('GET', KEYS[1])
if not v then return nil end
if isPointer(v) then
  local s = resolve(ARGV[2], true)
  if not s then return nil end
  return { 'moved', s[3], s[2] }
end
local record = '=' .. ARGV[6] .. ';' .. ARGV[7] .. string.sub(v, headerEnd(v))
local ttl = tonumber(ARGV[4])
redis.call('SET', KEYS[2], record, 'PX', ttl)
redis.call('SET', KEYS[1], '@' .. ARGV[3], 'PX', ARGV[5])
local index = userIndex(v)
local at = now()
redis.call('ZREM', index, ARGV[2])
redis.call('ZADD', index, at + ttl, ARGV[3])
keepIndex(index, at)
return { 'rotated', ARGV[3], record }`;
