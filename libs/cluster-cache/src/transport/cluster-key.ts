import { createHash, scrypt } from 'node:crypto';

/**
 * scrypt parameters of the cluster key: 32 MiB and about 100 ms of one core per
 * derivation (2 vCPUs, 2025), so each guess at a cookie costs that much too.
 * `maxmem` leaves room above the 128·N·r bytes scrypt needs.
 */
export const CLUSTER_KEY_SCRYPT = { N: 2 ** 15, r: 8, p: 1, maxmem: 64 * 1024 * 1024 } as const;

/** Bytes of the cluster key. */
export const CLUSTER_KEY_BYTES = 32;

/** The scrypt salt of a cluster: a label and the cluster name, so each cluster name needs its own guesses. */
export function clusterKeySalt(cluster: string): Buffer {
  return Buffer.from(`nest-cluster-cache/cluster-key/v1\0${cluster}`, 'utf8');
}

/** Derivations of this process, by a digest of cookie and cluster: nodes that share both derive once. */
const derived = new Map<string, Promise<Buffer>>();

/**
 * The key every other cluster key comes from (the handshake's HMAC key, the
 * gossip keys): scrypt of the cookie, salted with the cluster name.
 *
 * Why scrypt: one challenge from the cluster port, or one gossip heartbeat
 * heard on the wire, is enough to test guesses at the cookie offline. A
 * memory-hard derivation makes every guess cost what it costs a node once at
 * start (see {@link CLUSTER_KEY_SCRYPT}); a random cookie of 128 bits or more
 * is out of reach either way.
 *
 * Runs on libuv's thread pool, not on the event loop; cached per cookie and
 * cluster for the life of the process, so many nodes in one process (specs,
 * benchmarks) pay for it once.
 */
export function deriveClusterKey(cookie: string | Buffer, cluster: string): Promise<Buffer> {
  const id = createHash('sha256').update(cookie).update('\0').update(cluster).digest('hex');
  let key = derived.get(id);
  if (key === undefined) {
    key = new Promise<Buffer>((resolve, reject) => {
      scrypt(cookie, clusterKeySalt(cluster), CLUSTER_KEY_BYTES, CLUSTER_KEY_SCRYPT, (error, result) =>
        error ? reject(error) : resolve(result),
      );
    });
    derived.set(id, key);
    key.catch(() => derived.delete(id)); // a failed derivation may be retried
  }
  return key;
}
