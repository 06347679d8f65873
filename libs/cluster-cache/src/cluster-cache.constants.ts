/** Name of the table that holds `ClusterCache` and `SessionCache` data. */
export const DEFAULT_TABLE = 'sessions';
/** Namespace of the injected `ClusterCache` (Pow's default). */
export const DEFAULT_NAMESPACE = 'cache';
/** Namespace of `SessionCache` (Pow's `CredentialsCache`). */
export const SESSION_NAMESPACE = 'credentials';

/** Injection token of the validated options. */
export const RESOLVED_OPTIONS = 'CLUSTER_CACHE:RESOLVED_OPTIONS';

/** Injection token of the `ClusterCache` of a `forFeature` table. @publicApi */
export function getClusterCacheToken(table: string = DEFAULT_TABLE): string {
  return `CLUSTER_CACHE:TABLE:${table}`;
}
