import { Logger } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { DEMO_SESSION_SECRET, renewAfter } from './demo-config';
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
  ) {}

  static fromConfig(config: ConfigService): DemoSettings {
    const secret = config.get<string>('SESSION_SECRET');
    if (secret === undefined || secret === '') {
      new Logger('Demo').warn('SESSION_SECRET is not set: using the demo secret; set your own outside the demo');
    }
    return new DemoSettings(secret || DEMO_SESSION_SECRET, config.get<string>('COOKIE_SECURE') === 'true', renewAfter(config));
  }
}
