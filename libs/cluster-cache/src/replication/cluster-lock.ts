import type { PeerCalls } from './peer-calls';

/** How often a lost unlock is sent again, and the first wait before it (doubling). */
const UNLOCK_RETRIES = 5;
const UNLOCK_RETRY_MS = 100;

/** A lock holder: `node/token`, so one node's attempts are told apart. */
type Holder = string;

interface LockRequest {
  resource: string;
  holder: Holder;
  ttl: number;
}

interface Grant {
  holder: Holder;
  expires: number;
}

/**
 * A non-blocking lock across the connected cluster (Pow uses `:global.set_lock`
 * with no retries). Taking a resource asks every linked node; it is taken only
 * if all of them grant it, else it is released everywhere at once. Grants
 * expire after `ttl`, so a holder that crashed does not block forever.
 *
 * When two nodes try at the same moment, each holds its own grant while it
 * asks the other, and without a rule both would give up. The rule: a node
 * still asking yields to a node with a smaller name, so one of them wins.
 */
export class ClusterLock {
  private readonly grants = new Map<string, Grant>();
  /** This node's attempts still waiting for answers: the ones that may yield. */
  private readonly asking = new Set<Holder>();
  private nextToken = 1;

  constructor(
    private readonly self: string,
    private readonly calls: PeerCalls,
    private readonly peers: () => string[],
    private readonly ttl: number,
    private readonly callTimeout: number,
  ) {
    calls.handle('lock', (_from, body) => {
      const { resource, holder, ttl: lockTtl } = body as LockRequest;
      return this.grant(resource, holder, lockTtl);
    });
    calls.handle('unlock', (_from, body) => {
      const { resource, holder } = body as LockRequest;
      return this.release(resource, holder);
    });
  }

  /**
   * Runs `fn` holding `resource` if it can be taken at once; resolves to
   * `{ acquired: false }` without running it if another node holds it.
   */
  async tryWith<T>(resource: string, fn: () => Promise<T>, ttl = this.ttl): Promise<{ acquired: true; result: T } | { acquired: false }> {
    const holder = `${this.self}/${this.nextToken++}`;
    if (!this.grant(resource, holder, ttl)) return { acquired: false };
    const peers = this.peers();
    this.asking.add(holder);
    const answers = await Promise.all(
      peers.map((peer) =>
        this.calls.call<boolean>(peer, 'lock', { resource, holder, ttl }, this.callTimeout).then(
          (granted) => ({ peer, granted }),
          () => ({ peer, granted: false }),
        ),
      ),
    );
    this.asking.delete(holder);
    try {
      // Still ours here, unless we yielded to a smaller node meanwhile.
      if (!answers.every((a) => a.granted) || this.grants.get(resource)?.holder !== holder) return { acquired: false };
      return { acquired: true, result: await fn() };
    } finally {
      this.release(resource, holder);
      for (const { peer, granted } of answers) if (granted) this.unlockOn(peer, { resource, holder, ttl });
    }
  }

  /**
   * Releases this node's grant on `peer`. An unlock can be lost with the link
   * it went out on (the duplicate link of a dial race closing under it) while
   * the peer stays linked: the grant would then block the resource there
   * until it expires (two minutes for a heal), so it is sent again, a few
   * times, while the peer is linked. Releasing twice is harmless.
   */
  private unlockOn(peer: string, request: LockRequest, attempt = 0): void {
    this.calls.call(peer, 'unlock', request, this.callTimeout).catch(() => {
      if (attempt >= UNLOCK_RETRIES || !this.peers().includes(peer)) return;
      setTimeout(() => this.unlockOn(peer, request, attempt + 1), UNLOCK_RETRY_MS * 2 ** attempt).unref();
    });
  }

  /**
   * Forgets the grants held by a node whose link went down: a crashed or
   * partitioned holder must not block the others (as `:global` locks die with
   * their process).
   */
  peerDown(peer: string): void {
    for (const [resource, grant] of this.grants) if (grant.holder.startsWith(`${peer}/`)) this.grants.delete(resource);
  }

  private grant(resource: string, holder: Holder, ttl: number): boolean {
    const current = this.grants.get(resource);
    const taken = current !== undefined && current.holder !== holder && current.expires > Date.now();
    if (taken && !(this.asking.has(current.holder) && nodeOf(holder) < this.self)) return false;
    this.grants.set(resource, { holder, expires: Date.now() + ttl });
    return true;
  }

  private release(resource: string, holder: Holder): boolean {
    if (this.grants.get(resource)?.holder !== holder) return false;
    this.grants.delete(resource);
    return true;
  }
}

function nodeOf(holder: Holder): string {
  return holder.slice(0, holder.lastIndexOf('/'));
}
