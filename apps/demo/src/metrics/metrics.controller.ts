import { Controller, Get, Header, Injectable, OnModuleDestroy, UseGuards } from '@nestjs/common';
import { collectDefaultMetrics, Registry } from 'prom-client';
import { ClusterService } from '@app/cluster-cache';
import { ClusterCacheMetrics } from '@app/cluster-cache/prometheus';
import { AdminGuard } from '../security/admin.guard';

/** This app's prom-client registry: process metrics plus the cache's. */
@Injectable()
export class MetricsService implements OnModuleDestroy {
  readonly registry = new Registry();
  private readonly cache: ClusterCacheMetrics;

  constructor(cluster: ClusterService) {
    // Every metric says which node it is from (Prometheus adds `instance` too).
    this.registry.setDefaultLabels({ node: cluster.self().name });
    collectDefaultMetrics({ register: this.registry });
    this.cache = new ClusterCacheMetrics(cluster, this.registry);
  }

  onModuleDestroy(): void {
    this.cache.close();
  }
}

/** For the operator: loopback clients, or DEMO_ADMIN_TOKEN (see AdminGuard). */
@Controller('metrics')
@UseGuards(AdminGuard)
export class MetricsController {
  constructor(private readonly metrics: MetricsService) {}

  /** Prometheus text format. */
  @Get()
  @Header('Content-Type', 'text/plain; version=0.0.4; charset=utf-8')
  scrape(): Promise<string> {
    return this.metrics.registry.metrics();
  }
}
