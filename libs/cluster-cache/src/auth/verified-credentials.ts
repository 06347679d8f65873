/** Where a request's token came from. @publicApi */
export type CredentialSource = 'bearer' | 'cookie';

/** A token found on a request and checked as far as it can be without the store (the cookie's signature). */
export interface Credential {
  readonly source: CredentialSource;
  /** What the request carried (the bearer token, or the cookie's signed value): the key it is remembered under. */
  readonly sent: string;
  /** The session token. */
  readonly token: string;
  /** The token's handle on the mesh (`SessionCache.handleOf`), worked out once; '' on Redis. */
  readonly handle: string;
  /** Whether this is the copy held by `VerifiedCredentials` (checked before). */
  readonly remembered: boolean;
}

/**
 * Credentials whose check passed, remembered in a Map bounded to `capacity`
 * entries (oldest dropped first), so that a repeat request skips the cookie's
 * HMAC (≈ 13 µs in a server: building the OpenSSL context is most of it) and
 * the token's SHA-256: one Map lookup instead.
 *
 * Only credentials that passed get in (a cookie with a valid signature, a
 * token with a live session), and being remembered keeps nothing alive: the
 * guard still asks the session store on every request, and forgets a
 * credential whose session has ended. The Map holds tokens in this process's
 * memory only; it is never persisted, logged or replicated.
 */
export class VerifiedCredentials {
  private readonly known = new Map<string, KeptCredential>();
  /**
   * The kept credentials in the order they came, a ring of up to `capacity`
   * slots: the oldest is dropped from here, where `known.keys().next()` would
   * first step over every hole earlier deletes left in the Map (≈ 5 µs at
   * 10,000 entries, paid by every sign-in once it is full). `forget` empties
   * its slot, so a token leaves memory at once.
   */
  private readonly order: Array<KeptCredential | undefined> = [];
  /** The slot the next credential goes to (the oldest one's, once the ring is full). */
  private next = 0;

  constructor(private readonly capacity: number) {}

  get(sent: string): Credential | undefined {
    return this.known.get(sent);
  }

  /**
   * Remembers a credential; returns the copy that is kept (or the one given, with a capacity of 0).
   * @param made its strings were made by this process (a cookie value just signed), not sliced from a request.
   */
  remember(credential: Credential, made = false): Credential {
    if (this.capacity === 0 || credential.remembered) return credential;
    const known = this.known.get(credential.sent);
    if (known !== undefined) return known;
    const slot = this.next;
    const oldest = this.order[slot];
    if (oldest !== undefined) this.known.delete(oldest.sent);
    // Flat copies: `sent` and `token` are slices of the whole header, which the Map would keep alive.
    const sent = made ? credential.sent : flat(credential.sent);
    // The token is the start of what was sent (a cookie's value is `<token>.<mac>`).
    const token = sent.length === credential.token.length ? sent : sent.slice(0, credential.token.length);
    const kept: KeptCredential = { source: credential.source, sent, token, handle: credential.handle, remembered: true, slot };
    this.known.set(sent, kept);
    this.order[slot] = kept;
    this.next = slot + 1 === this.capacity ? 0 : slot + 1;
    return kept;
  }

  forget(credential: Credential): void {
    const kept = this.known.get(credential.sent);
    if (kept === undefined) return;
    this.known.delete(credential.sent);
    this.order[kept.slot] = undefined;
  }

  get size(): number {
    return this.known.size;
  }
}

/** A remembered credential and its slot in the ring. */
interface KeptCredential extends Credential {
  readonly slot: number;
}

/** A copy of `value` that shares no memory with the string it was sliced from. */
function flat(value: string): string {
  return Buffer.from(value, 'latin1').toString('latin1');
}
