import { Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { ConfigModule, ConfigService } from '@nestjs/config';
import { TerminusModule } from '@nestjs/terminus';
import { ThrottlerModule } from '@nestjs/throttler';
import { ClusterCache, ClusterCacheModule, ClusterService, getClusterCacheToken, SessionAuthModule } from '@app/cluster-cache';
import { SessionController } from './auth/session.controller';
import { UsersService } from './auth/users.service';
import { ClusterController } from './cluster/cluster.controller';
import { ClusterEventsService } from './cluster/cluster-events.service';
import { clusterCacheOptions, sessionAuthOptions, SIGNIN_WINDOW, signInLimit } from './config/demo-config';
import { DemoSettings } from './config/demo-settings';
import { ClusterCacheHealthIndicator } from '@app/cluster-cache/health';
import { HealthController } from './health/health.controller';
import { MetricsController, MetricsService } from './metrics/metrics.controller';
import { PageController } from './page/page.controller';
import { AdminGuard } from './security/admin.guard';
import { ClusterThrottlerStorage, THROTTLE_TABLE } from './security/cluster-throttler-storage';
import { OriginGuard } from './security/origin.guard';

/**
 * The demo app: one node of the cluster. Everything it knows about its place
 * in the cluster comes from the environment (see `clusterCacheOptions`).
 *
 * Sign-in, sign-out and the session routes use the library's auth kit
 * (`SessionAuthModule`: `SessionAuthGuard`, `SessionAuthService`, `@Public()`,
 * `@CurrentSession()`) with a signed HttpOnly cookie.
 *
 * Its guard rails: `OriginGuard` refuses cross-site POSTs and DELETEs (every
 * route), `ThrottlerGuard` limits sign-ins per client address on the whole
 * cluster (its counters live in the replicated `throttle` table), and `AdminGuard` keeps
 * /cluster and /metrics to loopback clients or DEMO_ADMIN_TOKEN.
 */
@Module({
  imports: [
    ConfigModule.forRoot({ isGlobal: true, ignoreEnvFile: true }),
    ClusterCacheModule.forRootAsync({
      inject: [ConfigService],
      useFactory: (config: ConfigService) => clusterCacheOptions(config),
    }),
    SessionAuthModule.forRootAsync({
      inject: [ConfigService],
      useFactory: (config: ConfigService) => sessionAuthOptions(config),
    }),
    TerminusModule.forRoot({ errorLogStyle: 'pretty' }),
    // Used by POST /session only (@UseGuards(ThrottlerGuard)); the counters are in a replicated table of their own.
    ThrottlerModule.forRootAsync({
      imports: [ClusterCacheModule.forFeature({ name: THROTTLE_TABLE })],
      inject: [ConfigService, getClusterCacheToken(THROTTLE_TABLE), ClusterService],
      useFactory: (config: ConfigService, cache: ClusterCache, cluster: ClusterService) => ({
        throttlers: [{ ttl: SIGNIN_WINDOW, limit: signInLimit(config) }],
        storage: new ClusterThrottlerStorage(cache, cluster.self().name),
        errorMessage: (_context, limit) => `too many sign-in attempts from your address: try again in ${limit.timeToBlockExpire} s`,
      }),
    }),
  ],
  controllers: [PageController, SessionController, ClusterController, HealthController, MetricsController],
  providers: [
    { provide: DemoSettings, inject: [ConfigService], useFactory: (config: ConfigService) => DemoSettings.fromConfig(config) },
    UsersService,
    ClusterEventsService,
    ClusterCacheHealthIndicator,
    MetricsService,
    AdminGuard,
    { provide: APP_GUARD, useClass: OriginGuard },
  ],
})
export class DemoModule {}
