import { ConfigService } from '@nestjs/config';
import { adminToken, allowedOrigins, signInLimit } from './demo-config';

/** The demo's own settings (the cache's are in `clusterCacheOptions`, the auth kit's in `sessionAuthOptions`). */
export class DemoSettings {
  constructor(
    /** Origins whose pages may POST and DELETE (DEMO_ALLOWED_ORIGINS; see `allowedOrigins`). */
    readonly allowedOrigins: readonly string[] = [],
    /** Lets non-loopback clients read /cluster and /metrics (DEMO_ADMIN_TOKEN), if set. */
    readonly adminToken: string | undefined = undefined,
    /** Sign-in attempts per client address and minute, cluster-wide (DEMO_SIGNIN_LIMIT). */
    readonly signInLimit = 10,
  ) {}

  static fromConfig(config: ConfigService): DemoSettings {
    return new DemoSettings(allowedOrigins(config), adminToken(config), signInLimit(config));
  }
}
