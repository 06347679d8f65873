import { Module } from '@nestjs/common';
import { ConfigModule, ConfigService } from '@nestjs/config';
import { TerminusModule } from '@nestjs/terminus';
import { ClusterCacheModule } from '@app/cluster-cache';
import { SessionController } from './auth/session.controller';
import { SessionCookies } from './auth/session-cookie';
import { SessionGuard } from './auth/session.guard';
import { UsersService } from './auth/users.service';
import { ClusterController } from './cluster/cluster.controller';
import { ClusterEventsService } from './cluster/cluster-events.service';
import { clusterCacheOptions } from './config/demo-config';
import { DemoSettings } from './config/demo-settings';
import { ClusterCacheHealthIndicator } from '@app/cluster-cache/health';
import { HealthController } from './health/health.controller';
import { MetricsController, MetricsService } from './metrics/metrics.controller';
import { PageController } from './page/page.controller';

/**
 * The demo app: one node of the cluster. Everything it knows about its place
 * in the cluster comes from the environment (see `clusterCacheOptions`).
 */
@Module({
  imports: [
    ConfigModule.forRoot({ isGlobal: true, ignoreEnvFile: true }),
    ClusterCacheModule.forRootAsync({
      inject: [ConfigService],
      useFactory: (config: ConfigService) => clusterCacheOptions(config),
    }),
    TerminusModule.forRoot({ errorLogStyle: 'pretty' }),
  ],
  controllers: [PageController, SessionController, ClusterController, HealthController, MetricsController],
  providers: [
    { provide: DemoSettings, inject: [ConfigService], useFactory: (config: ConfigService) => DemoSettings.fromConfig(config) },
    { provide: SessionCookies, inject: [DemoSettings], useFactory: (settings: DemoSettings) => new SessionCookies(settings) },
    UsersService,
    SessionGuard,
    ClusterEventsService,
    ClusterCacheHealthIndicator,
    MetricsService,
  ],
})
export class DemoModule {}
