import { randomBytes } from 'node:crypto';

/**
 * Identity of one node of the cluster, as announced during the handshake.
 *
 * `name` is the stable identity (it survives restarts); `incarnation` changes on every
 * start, so a peer can tell a restarted node (new incarnation) from a reconnect of the
 * same process (same incarnation).
 */
export interface NodeInfo {
  /** Stable node name, e.g. `'a@127.0.0.1'`. Unique within the cluster. */
  name: string;
  /** Address the node listens on for cluster traffic. */
  host: string;
  /** Port the node listens on; `0` until {@link Transport.listen} bound a real one. */
  port: number;
  /** Random hex string, new on every start of the process. */
  incarnation: string;
  /** When this incarnation started, in ms since the epoch. */
  startedAt: number;
}

/**
 * Creates the identity of a node starting now, with a fresh random incarnation.
 *
 * @param name - stable node name, e.g. `'a@127.0.0.1'`
 * @param host - address to listen on
 * @param port - port to listen on; `0` picks a free one at {@link Transport.listen}
 */
export function createNodeInfo(name: string, host: string, port = 0): NodeInfo {
  return { name, host, port, incarnation: randomBytes(8).toString('hex'), startedAt: Date.now() };
}
