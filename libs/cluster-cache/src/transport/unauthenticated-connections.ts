/** The limits on connections accepted and not authenticated yet. */
export interface UnauthenticatedLimits {
  /** At most this many at once, from every address together. */
  maxUnauthenticated: number;
  /** At most this many at once from one address. */
  maxUnauthenticatedPerAddress: number;
}

/** Whether a new connection may proceed to its handshake; a refused one says which limit it hit. */
export type Admission =
  | { admitted: true; /** Frees the place: call once authenticated or closed (idempotent). */ release(): void }
  | { admitted: false; limit: 'total' | 'address'; /** Connections authenticating under that limit. */ count: number };

/**
 * Counts the connections of a listening port that have not authenticated yet,
 * in total and per source address, and admits new ones while both counts are
 * under their limits.
 *
 * Why: each such connection holds a descriptor, socket buffers and up to one
 * handshake frame until its handshake timeout. Without a cap, a flood of silent
 * or slow connections took every descriptor of a node (and its HTTP port with
 * them) and hundreds of MiB; with it, the flood costs a bounded amount and only
 * the flooding addresses lose.
 */
export class UnauthenticatedConnections {
  private total = 0;
  private readonly byAddress = new Map<string, number>();

  constructor(private readonly limits: UnauthenticatedLimits) {}

  /** Connections admitted and neither authenticated nor closed yet. */
  get count(): number {
    return this.total;
  }

  /** Admits a connection from `address` (the peer's IP), or says why not. */
  admit(address: string): Admission {
    if (this.total >= this.limits.maxUnauthenticated) return { admitted: false, limit: 'total', count: this.total };
    const fromAddress = this.byAddress.get(address) ?? 0;
    if (fromAddress >= this.limits.maxUnauthenticatedPerAddress) {
      return { admitted: false, limit: 'address', count: fromAddress };
    }
    this.total++;
    this.byAddress.set(address, fromAddress + 1);
    let released = false;
    return {
      admitted: true,
      release: () => {
        if (released) return;
        released = true;
        this.total--;
        const left = this.byAddress.get(address)! - 1;
        if (left === 0) this.byAddress.delete(address);
        else this.byAddress.set(address, left);
      },
    };
  }
}
