import type { NodeInfo } from './node-info';
import type { PeerLink } from './peer-link.interface';

/**
 * Moves authenticated messages between the nodes of a cluster, one link per pair of nodes.
 * It knows nothing of what the messages mean.
 */
export interface Transport {
  /** This node. Its `port` is the bound one once {@link listen} resolved. */
  readonly self: NodeInfo;

  /**
   * Starts accepting peers on `self.host:self.port`; with port 0 the bound port is
   * written back into `self.port`.
   */
  listen(): Promise<void>;

  /**
   * Connects to the node listening on `host:port` and resolves once it is authenticated.
   * Resolves the existing link if that node is already linked.
   *
   * @param timeout longest the connection may take to establish, in ms (default: the
   * transport's `connectTimeout`). A short one suits probes of a node that may be cut off:
   * a fresh attempt beats waiting for the kernel to resend a lost SYN.
   * @throws TransportError when the connection or the handshake fails.
   */
  connect(host: string, port: number, timeout?: number): Promise<PeerLink>;

  /** The open links, at most one per peer. */
  links(): PeerLink[];

  /**
   * Registers a handler for every new link, inbound or outbound, called before any of its
   * messages is delivered; returns its unsubscribe function. Links that exist already are
   * in {@link links}.
   */
  onLink(handler: (link: PeerLink) => void): () => void;

  /**
   * Sends `leave` on every link, closes the listener and every socket, and clears every
   * timer. Idempotent.
   */
  close(): Promise<void>;
}
