/**
 * Base class of every error this library throws, so callers can tell them
 * apart from their own with one `instanceof`.
 * @publicApi
 */
export class ClusterCacheError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
  }
}

/**
 * Options given to `ClusterCacheModule` (or a cache method) are invalid.
 * `option` is the path of the offending option, e.g. `node.port` or `ttl`.
 * @publicApi
 */
export class InvalidOptionError extends ClusterCacheError {
  constructor(
    readonly option: string,
    problem: string,
  ) {
    super(`nest-cluster-cache: option \`${option}\` ${problem}`);
  }
}

/**
 * An argument of a cache call is invalid (a bad key, an undefined value, a
 * missing TTL). Nothing was written.
 * @publicApi
 */
export class InvalidArgumentError extends ClusterCacheError {}

/**
 * The backend cannot serve the call right now (Redis down, unreachable, not
 * answering within `redis.commandTimeout`, or a Redis Cluster refusing it with
 * CLUSTERDOWN or lacking the master of its slot). The call failed within
 * `redis.commandTimeout` of its start, at once when the backend was known to
 * be away; a write may or may not have been applied. Calls succeed again when
 * the backend is back, with no action needed.
 * @publicApi
 */
export class BackendUnavailableError extends ClusterCacheError {
  constructor(
    /** The backend's address, e.g. `redis://127.0.0.1:6379`. */
    readonly address: string,
    reason: string,
    options?: ErrorOptions,
  ) {
    super(`nest-cluster-cache: the Redis backend at ${address} is unavailable (${reason}); calls succeed again once Redis is back`, options);
  }
}
