import { createHash } from 'node:crypto';
import { encodeKeyElements } from '../codec/key-codec';
import type { KeyPart, NormalKey } from '../store/key';

/**
 * Where a cache namespace lives in Redis. All its keys share one hash tag, so
 * on a Redis Cluster they sit in one slot: that is what lets a Lua script
 * write several of them atomically and keep the key index exact.
 *
 * - `<prefix>{<table>/<ns>}:k:<key>` — an entry (MessagePack value, Redis TTL);
 * - `<prefix>{<table>/<ns>}:keys` — sorted set of every key, scores all 0, so
 *   `ZRANGEBYLEX` walks the keys that start with given elements;
 * - `<prefix>{<table>/<ns>}:expiry` — the same keys scored by expiry time,
 *   so expired ones leave the index.
 *
 * Keys are encoded element by element (the disk copy's key format), so the
 * encoding of leading elements is a byte prefix of every key that has them.
 */
export class NamespaceKeys {
  /** The sorted set of keys, for `all`. */
  readonly index: string;
  /** The keys by expiry time, to trim the index. */
  readonly expiry: string;
  /** What an entry's key starts with; the encoded key follows. */
  readonly entryPrefix: Buffer;

  constructor(prefix: string, table: string, namespace: string) {
    const slot = `${prefix}{${encodeURIComponent(table)}/${encodeURIComponent(namespace)}}`;
    this.index = `${slot}:keys`;
    this.expiry = `${slot}:expiry`;
    this.entryPrefix = Buffer.from(`${slot}:k:`);
  }

  /** A key as index member. */
  member(key: NormalKey): Buffer {
    return encodeKeyElements(typeof key === 'object' ? key : [key]);
  }

  /** The Redis key of an entry. */
  entry(key: NormalKey): Buffer {
    return Buffer.concat([this.entryPrefix, this.member(key)]);
  }

  /** `ZRANGEBYLEX` bounds of the keys that start with `leading` (every key when it is empty). */
  range(leading: readonly KeyPart[]): [Buffer | string, Buffer | string] {
    if (leading.length === 0) return ['-', '+'];
    const prefix = encodeKeyElements(leading);
    // 0xff never follows a whole element (elements start with a tag byte 1–3).
    return [Buffer.concat([INCLUSIVE, prefix]), Buffer.concat([EXCLUSIVE, prefix, MAX_BYTE])];
  }
}

const INCLUSIVE = Buffer.from('[');
const EXCLUSIVE = Buffer.from('(');
const MAX_BYTE = Buffer.from([0xff]);

/** Characters of a session's routing tag. */
export const SESSION_TAG_LENGTH = 4;

/**
 * Where sessions live in Redis. A user's sessions and their index share a
 * hash tag derived from the user id, so every session call is one atomic
 * script on one Redis Cluster slot, while different users spread over the
 * whole cluster. The tag is carried at the start of the token and its handle,
 * so a token alone finds its slot.
 *
 * - `<prefix>{<table>/<ns>/<tag>}s:<handle>` — a session, or a rotated token's pointer;
 * - `<prefix>{<table>/<ns>/<tag>}u:<user id as JSON>` — sorted set of the user's
 *   handles by expiry time.
 */
export class SessionKeys {
  /** What every key starts with, up to the tag: `<prefix>{<table>/<ns>/`. */
  private readonly head: string;

  constructor(prefix: string, table: string, namespace: string) {
    this.head = `${prefix}{${encodeURIComponent(table)}/${encodeURIComponent(namespace)}/`;
  }

  /** The routing tag of a user: 24 bits of the SHA-256 of its id (base64url). */
  static tagOf(userJson: string): string {
    return createHash('sha256').update(userJson).digest('base64url').slice(0, SESSION_TAG_LENGTH);
  }

  /** What every key of one tag starts with (the scripts build the others from it). */
  base(tag: string): string {
    return `${this.head}${tag}}`;
  }

  /** The key of a session (or pointer) by handle. */
  session(tag: string, handle: string): string {
    return `${this.base(tag)}s:${handle}`;
  }

  /** The key of a user's index of sessions. */
  user(tag: string, userJson: string): string {
    return `${this.base(tag)}u:${userJson}`;
  }
}
