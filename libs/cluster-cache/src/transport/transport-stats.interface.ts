/**
 * Counters of a transport's cluster port since start: connections waiting to
 * authenticate, connections refused and why, links closed for forged frames.
 * @publicApi
 */
export interface TransportStats {
  /** Connections accepted and not authenticated yet (capped by `connections.maxUnauthenticated`). */
  unauthenticated: number;
  /** Connections refused, by reason. */
  refused: {
    /** Closed at once: `connections.maxUnauthenticated` connections were authenticating already. */
    limit: number;
    /** Closed at once: `connections.maxUnauthenticatedPerAddress` from its address were authenticating already. */
    addressLimit: number;
    /** Failed the handshake: wrong cookie, cluster, protocol or certificate, garbage, or too slow. */
    handshake: number;
  };
  /** Links closed because a frame failed authentication: forged, altered, replayed, reordered or after a dropped one. */
  forgedFrames: number;
}
