import { DynamicModule, Module } from '@nestjs/common';
import { ClusterCacheModule } from '../cluster-cache.module';
import type { ClusterCacheOptions } from '../options/cluster-cache-options.interface';

/** What the testing module accepts: the cache settings, no cluster and no disk. @publicApi */
export type ClusterCacheTestingOptions = Pick<ClusterCacheOptions, 'ttl' | 'sessions' | 'clock' | 'writes'>;

/**
 * A single-node, in-memory `ClusterCacheModule` for an application's own unit
 * tests: the same `ClusterCache` and `SessionCache`, no sockets, no files.
 * Pass a `ManualClock` to move time by hand.
 *
 * @example
 * const clock = new ManualClock();
 * const moduleRef = await Test.createTestingModule({
 *   imports: [ClusterCacheTestingModule.forRoot({ clock })],
 *   providers: [SessionGuard],
 * }).compile();
 * @publicApi
 */
@Module({})
export class ClusterCacheTestingModule {
  static forRoot(options: ClusterCacheTestingOptions = {}): DynamicModule {
    const { ttl, sessions, clock, writes } = options;
    return { module: ClusterCacheTestingModule, imports: [ClusterCacheModule.forRoot({ ttl, sessions, clock, writes })], exports: [ClusterCacheModule] };
  }
}
