/**
 * Lua scripts of the Redis `SessionStore`. Every key a call touches shares
 * the user's hash tag, so each call is one atomic script, on one server or
 * one Redis Cluster slot.
 *
 * A session is stored as `<user id JSON> NUL <MessagePack [metadata, createdAt]>`
 * with a Redis TTL; a rotated token's handle holds `@<new handle>` for the
 * rotation grace. A user's index is a sorted set of handles by expiry time.
 * ARGV[1] of every script is the tag's key base (see `SessionKeys`).
 */
const PRELUDE = `
local base = ARGV[1]
local function now() local t = redis.call('TIME') return t[1] * 1000 + math.floor(t[2] / 1000) end
local function isPointer(v) return string.byte(v, 1) == 64 end
local function userIndex(v) return base .. 'u:' .. string.sub(v, 1, string.find(v, '\\0', 1, true) - 1) end
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
local function keepIndex(index)
  redis.call('ZREMRANGEBYSCORE', index, '-inf', now())
  local last = redis.call('ZRANGE', index, -1, -1, 'WITHSCORES')
  if last[2] then redis.call('PEXPIREAT', index, last[2]) end
end
`;

/** KEYS: session, user index. ARGV: base, handle, value, expiresAt. */
export const CREATE = `${PRELUDE}
redis.call('SET', KEYS[1], ARGV[3], 'PXAT', ARGV[4])
redis.call('ZADD', KEYS[2], ARGV[4], ARGV[2])
keepIndex(KEYS[2])
return 1`;

/** KEYS: session. ARGV: base, handle, follow ('1' or '0'). Returns handle, value, expiresAt or nil. */
export const READ = `${PRELUDE}
local s = resolve(ARGV[2], ARGV[3] == '1')
if not s then return nil end
return { s[3], s[2], redis.call('PEXPIRETIME', s[1]) }`;

/** KEYS: session. ARGV: base, handle, expiresAt. Renews the session a token resolves to; returns handle, value or nil. */
export const TOUCH = `${PRELUDE}
local s = resolve(ARGV[2], true)
if not s then return nil end
redis.call('PEXPIREAT', s[1], ARGV[3])
local index = userIndex(s[2])
redis.call('ZADD', index, ARGV[3], s[3])
keepIndex(index)
return { s[3], s[2] }`;

/** KEYS: session. ARGV: base, handle. Ends the session a token resolves to (and its pointer); 1 if there was one. */
export const DELETE = `${PRELUDE}
local s = resolve(ARGV[2], true)
redis.call('DEL', KEYS[1])
if not s then return 0 end
redis.call('DEL', s[1])
redis.call('ZREM', userIndex(s[2]), s[3])
return 1`;

/** KEYS: session, user index. ARGV: base, handle, user id JSON. Ends one session of that user. */
export const REVOKE = `${PRELUDE}
local s = resolve(ARGV[2], false)
if s and userIndex(s[2]) == KEYS[2] then redis.call('DEL', KEYS[1]) end
redis.call('ZREM', KEYS[2], ARGV[2])
return 1`;

/** KEYS: user index. ARGV: base. Returns handle, value, expiresAt … of the user's live sessions. */
export const LIST = `${PRELUDE}
local out = {}
for _, handle in ipairs(redis.call('ZRANGEBYSCORE', KEYS[1], '(' .. now(), '+inf')) do
  local s = resolve(handle, false)
  if s then
    out[#out + 1] = handle
    out[#out + 1] = s[2]
    out[#out + 1] = redis.call('PEXPIRETIME', s[1])
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
 * KEYS: old session, new session, user index. ARGV: base, old handle, new
 * handle, new value, expiresAt, grace (ms). Moves a session to a new handle
 * and leaves a pointer at the old one. Returns 'rotated', 'moved' (rotated
 * already: the old handle is a pointer) or 'gone'.
 */
export const ROTATE = `${PRELUDE}
local v = redis.call('GET', KEYS[1])
if not v then return 'gone' end
if isPointer(v) then return 'moved' end
redis.call('SET', KEYS[2], ARGV[4], 'PXAT', ARGV[5])
redis.call('SET', KEYS[1], '@' .. ARGV[3], 'PX', ARGV[6])
redis.call('ZREM', KEYS[3], ARGV[2])
redis.call('ZADD', KEYS[3], ARGV[5], ARGV[3])
keepIndex(KEYS[3])
return 'rotated'`;
