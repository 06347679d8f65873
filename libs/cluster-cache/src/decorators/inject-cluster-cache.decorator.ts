import { Inject } from '@nestjs/common';
import { getClusterCacheToken } from '../cluster-cache.constants';

/**
 * Injects the `ClusterCache` of a table added with `ClusterCacheModule.forFeature`.
 * @example constructor(@InjectClusterCache('jobs') private readonly jobs: ClusterCache<Job>) {}
 * @publicApi
 */
export const InjectClusterCache = (table?: string): ParameterDecorator & PropertyDecorator => Inject(getClusterCacheToken(table));
