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
