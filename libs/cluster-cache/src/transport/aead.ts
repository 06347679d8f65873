import { createCipheriv, createDecipheriv } from 'node:crypto';

/** Bytes of a ChaCha20-Poly1305 key, nonce (IETF) and tag. */
export const AEAD_KEY_BYTES = 32;
export const AEAD_NONCE_BYTES = 12;
export const AEAD_TAG_BYTES = 16;

/**
 * ChaCha20-Poly1305 (RFC 8439, IETF nonce): seals `plain` with `ad` as
 * associated data into `plain.length + 16` bytes (ciphertext, then tag), and
 * opens such bytes again. Both implementations below produce the same bytes,
 * so nodes with either one talk to each other.
 */
export interface Aead {
  readonly name: string;
  seal(plain: Uint8Array, ad: Uint8Array, nonce: Uint8Array, key: Uint8Array): Buffer;
  /** Seals `plain` into `out`, which holds exactly `plain.length + 16` bytes (a frame seals into its own buffer: no copy after). */
  sealInto(out: Uint8Array, plain: Uint8Array, ad: Uint8Array, nonce: Uint8Array, key: Uint8Array): void;
  /** The plain text, or `undefined` when the tag does not verify. */
  open(sealed: Uint8Array, ad: Uint8Array, nonce: Uint8Array, key: Uint8Array): Buffer | undefined;
}

/** The subset of sodium-native this uses. */
interface Sodium {
  crypto_aead_chacha20poly1305_ietf_encrypt(c: Uint8Array, m: Uint8Array, ad: Uint8Array | null, nsec: null, npub: Uint8Array, k: Uint8Array): number;
  crypto_aead_chacha20poly1305_ietf_decrypt(m: Uint8Array, nsec: null, c: Uint8Array, ad: Uint8Array | null, npub: Uint8Array, k: Uint8Array): number;
}

/**
 * libsodium through sodium-native: one native call per frame, about 1.3 µs
 * for a session-sized frame here. node:crypto makes an OpenSSL context per
 * message (4–6 µs for AES-256-GCM, 11 µs for ChaCha20-Poly1305), which on a
 * sync write (the write and its ack, sealed and opened) costs more than the
 * round trip itself.
 */
function sodiumAead(sodium: Sodium): Aead {
  return {
    name: 'chacha20-poly1305 (libsodium)',
    seal(plain, ad, nonce, key) {
      const sealed = Buffer.allocUnsafe(plain.length + AEAD_TAG_BYTES);
      sodium.crypto_aead_chacha20poly1305_ietf_encrypt(sealed, plain, ad, null, nonce, key);
      return sealed;
    },
    sealInto(out, plain, ad, nonce, key) {
      sodium.crypto_aead_chacha20poly1305_ietf_encrypt(out, plain, ad, null, nonce, key);
    },
    open(sealed, ad, nonce, key) {
      if (sealed.length < AEAD_TAG_BYTES) return undefined;
      const plain = Buffer.allocUnsafe(sealed.length - AEAD_TAG_BYTES);
      try {
        sodium.crypto_aead_chacha20poly1305_ietf_decrypt(plain, null, sealed, ad, nonce, key);
      } catch {
        return undefined; // sodium-native throws when the tag does not verify
      }
      return plain;
    },
  };
}

/** The same AEAD from node:crypto, for platforms sodium-native has no build for. */
const nodeAead: Aead = {
  name: 'chacha20-poly1305 (node:crypto)',
  seal(plain, ad, nonce, key) {
    const cipher = createCipheriv('chacha20-poly1305', key, nonce, { authTagLength: AEAD_TAG_BYTES });
    cipher.setAAD(ad, { plaintextLength: plain.length });
    const head = cipher.update(plain);
    cipher.final();
    return Buffer.concat([head, cipher.getAuthTag()]);
  },
  sealInto(out, plain, ad, nonce, key) {
    const sealed = nodeAead.seal(plain, ad, nonce, key);
    out.set(sealed);
  },
  open(sealed, ad, nonce, key) {
    if (sealed.length < AEAD_TAG_BYTES) return undefined;
    const body = sealed.subarray(0, sealed.length - AEAD_TAG_BYTES);
    const decipher = createDecipheriv('chacha20-poly1305', key, nonce, { authTagLength: AEAD_TAG_BYTES });
    decipher.setAAD(ad, { plaintextLength: body.length });
    decipher.setAuthTag(sealed.subarray(sealed.length - AEAD_TAG_BYTES));
    try {
      const plain = decipher.update(body);
      decipher.final(); // throws unless the tag verifies; `plain` is not used before
      return plain;
    } catch {
      return undefined;
    }
  },
};

function loadAead(): Aead {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return sodiumAead(require('sodium-native') as Sodium);
  } catch {
    return nodeAead; // sodium-native is an optional dependency
  }
}

/** The AEAD this process seals frames with: libsodium's when it loads, else node:crypto's. */
export const aead: Aead = loadAead();

/** @internal Both implementations, for specs that check they agree. */
export const aeadImplementations = { node: nodeAead, load: loadAead };
