/** Message text of the errors users see, in one place. */
export const messages = {
  noTtl: (namespace: string) =>
    `no TTL for a write to namespace "${namespace}": pass { ttl } (ms) or set a default with namespace("${namespace}", { ttl }) or the module's \`ttl\` option`,
  badTtl: (ttl: unknown) => `ttl must be a positive number of milliseconds, got ${String(ttl)}`,
  badExpiresAt: (expiresAt: unknown) => `expiresAt must be a time in the future (ms since the epoch), got ${String(expiresAt)}`,
  badKey: (problem: string, key: unknown) => `invalid key ${describe(key)}: ${problem}`,
  badPattern: (problem: string, pattern: unknown) => `invalid pattern ${describe(pattern)}: ${problem}`,
  undefinedValue: (key: unknown) => `cannot store undefined under key ${describe(key)} (use delete to remove a key)`,
  unclonableValue: (key: unknown, reason: string) => `the value for key ${describe(key)} cannot be stored: ${reason}`,
  valueTooLarge: (key: unknown, bytes: number, max: number, atLeast = false) =>
    `the value for key ${describe(key)} is ${atLeast ? 'at least ' : ''}${bytes} bytes encoded; values are limited to ${max} bytes (one cluster frame)`,
  emptyBatch: (method: string) => `${method} needs at least one element`,
  noCluster: () => 'this node runs alone: set the `cookie` option to form a cluster (no cookie, no cluster)',
  noClusterOnRedis: () => 'with backend "redis" the app nodes form no cluster of their own: Redis holds the data',
  meshOnly: (api: string, instead: string) =>
    `${api} is the mesh backend's synchronous API; with backend "redis" inject ${instead} (reads return promises there)`,
  badUserId: (userId: unknown) => `a user id must be a string or a finite number, got ${describe(userId)}`,
  redisReply: (reason: string) => `Redis refused a call: ${reason}`,
  sessionRevoked: (userId: unknown) =>
    `the new session of user ${describe(userId)} was ended before create() could return it: a revokeAll (or revoke) of that user ran while it was being written, and a revokeAll ends every session created before it`,
  incompatiblePeer: (what: string, self: string, mine: string, peer: string, theirs: string) =>
    `refusing to share data with ${peer}: ${what} is ${mine} on ${self} but ${theirs} on ${peer}; give every node the same setting`,
  unknownTable: (table: string) => `no table "${table}": declare it with ClusterCacheModule.forFeature({ name: "${table}" })`,
} as const;

function describe(value: unknown): string {
  if (typeof value === 'symbol') return value.toString();
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}
