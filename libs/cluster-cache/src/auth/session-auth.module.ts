import { Module, Provider } from '@nestjs/common';
import { SessionStore } from '../contract/session-store';
import { SessionCache } from '../sessions/session-cache';
import { RESOLVED_AUTH_OPTIONS } from './auth.constants';
import { ResolvedAuthOptions, resolveAuthOptions } from './resolve-auth-options';
import type { SessionAuthOptions } from './session-auth-options.interface';
import { ConfigurableModuleClass, SESSION_AUTH_MODULE_OPTIONS } from './session-auth.module-definition';
import { SessionAuthGuard } from './session-auth.guard';
import { SessionAuthService } from './session-auth.service';
import { SessionCredentials } from './session-credentials';

const providers: Provider[] = [
  {
    provide: RESOLVED_AUTH_OPTIONS,
    // Checked against the store's TTL (renewAfter must be shorter), so a bad option stops the start.
    useFactory: (options: SessionAuthOptions, store: SessionStore) => resolveAuthOptions(options, store.ttl),
    inject: [SESSION_AUTH_MODULE_OPTIONS, SessionStore],
  },
  {
    provide: SessionCredentials,
    useFactory: (options: ResolvedAuthOptions, store: SessionStore) => new SessionCredentials(options, store instanceof SessionCache),
    inject: [RESOLVED_AUTH_OPTIONS, SessionStore],
  },
  SessionAuthService,
  SessionAuthGuard,
];

/**
 * The auth kit over the session store: `SessionAuthGuard` (per route or as
 * `APP_GUARD`), `SessionAuthService` (sign in, sign out, sign out
 * everywhere), with `@Public()`, `@CurrentSession()` and `@CurrentUserId()`.
 * It uses the `SessionStore` of `ClusterCacheModule` (the mesh or Redis), so
 * import that module too; both are global by default. Works on
 * `@nestjs/platform-express` and `@nestjs/platform-fastify` alike, without
 * cookie-parser or @fastify/cookie.
 *
 * @example
 * imports: [
 *   ClusterCacheModule.forRoot({ node: { name: 'a@127.0.0.1', port: 14000 }, cookie: process.env.CLUSTER_COOKIE }),
 *   SessionAuthModule.forRoot({ cookie: { secret: process.env.SESSION_SECRET! } }),
 * ],
 * providers: [{ provide: APP_GUARD, useClass: SessionAuthGuard }],
 * @publicApi
 */
@Module({
  providers,
  exports: [RESOLVED_AUTH_OPTIONS, SessionCredentials, SessionAuthService, SessionAuthGuard],
})
export class SessionAuthModule extends ConfigurableModuleClass {}
