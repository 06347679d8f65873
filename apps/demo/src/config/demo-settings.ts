import { Logger } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { adminToken, allowedOrigins, DEMO_SESSION_SECRET, renewAfter, signInLimit } from './demo-config';
import type { CookieSettings } from '../auth/session-cookie';

/** The demo's own settings (the cache's are in `clusterCacheOptions`). */
export class DemoSettings implements CookieSettings {
  constructor(
    /** HMAC key of the session cookie (SESSION_SECRET); the same on every node. */
    readonly secret: string,
    /** Whether the cookie gets `Secure` (COOKIE_SECURE=true behind HTTPS). */
    readonly secure: boolean,
    /** Sessions older than this (ms, SESSION_RENEW_AFTER) get a new token. */
    readonly renewAfter: number,
    /** Origins whose pages may POST and DELETE (DEMO_ALLOWED_ORIGINS; see `allowedOrigins`). */
    readonly allowedOrigins: readonly string[] = [],
    /** Lets non-loopback clients read /cluster and /metrics (DEMO_ADMIN_TOKEN), if set. */
    readonly adminToken: string | undefined = undefined,
    /** Sign-in attempts per client address and minute, cluster-wide (DEMO_SIGNIN_LIMIT). */
    readonly signInLimit = 10,
  ) {}

  static fromConfig(config: ConfigService): DemoSettings {
    const secret = config.get<string>('SESSION_SECRET');
    if (secret === undefined || secret === '') {
      new Logger('Demo').warn('SESSION_SECRET is not set: using the demo secret; set your own outside the demo');
    }
    return new DemoSettings(
      secret || DEMO_SESSION_SECRET,
      config.get<string>('COOKIE_SECURE') === 'true',
      renewAfter(config),
      allowedOrigins(config),
      adminToken(config),
      signInLimit(config),
    );
  }
}
