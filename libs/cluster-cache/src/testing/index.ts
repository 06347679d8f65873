/**
 * nest-cluster-cache/testing: helpers for an application's own specs — a
 * single-node in-memory module, real multi-node clusters in one process, and
 * real netsplits between them. A separate entry point, so that production code
 * importing `nest-cluster-cache` never loads them.
 */
export { ClusterCacheTestingModule } from './cluster-cache-testing.module';
export type { ClusterCacheTestingOptions } from './cluster-cache-testing.module';
export { TestCluster } from './test-cluster';
export type { TestClusterNode, TestClusterOptions } from './test-cluster';
export { NftablesPartition } from './nftables-partition';
/** The clock to move by hand in specs; the same class as the main entry's. */
export { ManualClock } from '../store/clock';
