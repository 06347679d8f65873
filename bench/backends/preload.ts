/** What the pre-load left on each backend: its sessions' tokens, and on Redis the keys those sessions live under and their size. */
import { log, prng } from '../util/harness';
import { sessionMetadata } from '../util/session-data';
import { TTL } from './mesh-options';
import { Backend, BackendName } from './setup';
import { at, GET_KEYS, KEYS, PACKED, RAW_GET_KEYS, SESSIONS, SPREAD_GET_KEYS, VALUES } from './options';

export interface Loaded {
  tokens: Map<BackendName, string[]>;
  sessionKeysOf: Map<BackendName, string[]>;
  sessionBytes: Map<BackendName, number>;
}

/** Pre-loads the read keys and sessions of every backend; on Redis, checks that the raw anchors read the library's very keys and bytes. */
export async function preload(backends: Backend[]): Promise<Loaded> {
  // Pre-load the read keys (and plain copies for the Cluster's spread rows), check the raw keys are the library's.
  const tokens = new Map<BackendName, string[]>();
  const sessionKeysOf = new Map<BackendName, string[]>();
  const sessionBytes = new Map<BackendName, number>();
  for (const b of backends) {
    log(`loading ${KEYS} keys and ${SESSIONS} sessions into ${b.label}`);
    for (let i = 0; i < KEYS; i += 1000) {
      await b.cache.putMany(GET_KEYS.slice(i, i + 1000).map((k, j) => [k, at(VALUES, i + j)] as const));
    }
    const own: string[] = [];
    const rand = prng(7);
    for (let i = 0; i < SESSIONS; i += 100) {
      const batch = await Promise.all(
        Array.from({ length: Math.min(100, SESSIONS - i) }, (_, j) => b.sessions.create(`user-${i + j}`, sessionMetadata(i + j, rand))),
      );
      own.push(...batch.map((s) => s.token));
    }
    tokens.set(b.name, own);
    if (b.raw !== undefined) {
      const stored = await b.raw.plain.getBuffer(RAW_GET_KEYS[1]);
      if (stored === null || !stored.equals(at(PACKED, 1))) throw new Error(`${b.label}: the raw anchor's key or bytes are not the library's (key naming changed?)`);
      // The raw session anchors read the very keys (and so the very bytes) the library's SessionStore.get reads.
      const storage = b.sessions as unknown as { storageKeyOf?: (token: string) => string | undefined };
      const keys = own.map((token) => storage.storageKeyOf?.(token));
      if (keys.some((k) => k === undefined)) throw new Error(`${b.label}: cannot get the Redis key of a session (RedisSessionCache internals changed?)`);
      sessionKeysOf.set(b.name, keys as string[]);
      const bytes = await b.raw.plain.getBuffer(keys[0]!);
      if (bytes === null) throw new Error(`${b.label}: no session stored under the key the raw anchor reads`);
      sessionBytes.set(b.name, bytes.length);
      if (b.name === 'cluster') {
        for (let i = 0; i < KEYS; i += 1000) {
          await Promise.all(SPREAD_GET_KEYS.slice(i, i + 1000).map((k, j) => b.raw!.plain.set(k, at(PACKED, i + j), 'PX', TTL)));
        }
      }
    }
  }
  return { tokens, sessionKeysOf, sessionBytes };
}
