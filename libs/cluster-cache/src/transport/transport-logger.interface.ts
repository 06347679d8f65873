/**
 * The logging surface the transport writes to. Nest's `Logger` and `console` both fit.
 */
export interface TransportLogger {
  /** Normal lifecycle events: a link came up or a peer left. */
  log(message: string): void;
  /** Refused connections and failed links; the node keeps running. */
  warn(message: string): void;
  /** Bugs in handlers given to the transport. */
  error(message: string): void;
  /** Expected noise: failed dials, duplicate links, local closes. */
  debug(message: string): void;
}
