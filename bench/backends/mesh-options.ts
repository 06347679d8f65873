/** Options shared by the mesh nodes of bench/backends (the measured node and its peer process). */
import type { ClusterCacheOptions } from '@app/cluster-cache';

/** Default TTL of every write (30 min, Pow's default session life). */
export const TTL = 30 * 60_000;

/** What every mesh node of the run gets (the peer too); writes are `sync`, the default. */
export const MESH_OPTIONS = {
  cookie: 'bench-backends-cookie-0123456789',
  cluster: 'bench-backends',
  ttl: TTL,
  sessions: { ttl: TTL },
  joinTimeout: 30_000,
} satisfies ClusterCacheOptions;
