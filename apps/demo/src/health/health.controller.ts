import { Controller, Get } from '@nestjs/common';
import { HealthCheck, HealthCheckService } from '@nestjs/terminus';
import { ClusterCacheHealthIndicator } from '@app/cluster-cache/health';

@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly cache: ClusterCacheHealthIndicator,
  ) {}

  /** 200 while this node holds the cluster's data (`degraded` without a peer), 503 while it joins. */
  @Get()
  @HealthCheck()
  check() {
    return this.health.check([() => this.cache.isHealthy('cluster-cache', { minPeers: 1 })]);
  }
}
