import { CanActivate, ExecutionContext, ForbiddenException, Injectable } from '@nestjs/common';
import type { IncomingMessage } from 'node:http';
import { DemoSettings } from '../config/demo-settings';

/** Methods that change nothing: not checked. */
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * Cross-site request forgery, sign-in included ("login CSRF": another site's
 * form signs the browser in as the attacker), is refused on every
 * state-changing request (POST, DELETE…): a browser says which page sent it in
 * `Origin` (or, failing that, `Referer`), and it must be one of the demo's
 * origins (DEMO_ALLOWED_ORIGINS, see `allowedOrigins`). The refusal is a 403,
 * before any handler runs: no session, no Set-Cookie. A request with neither
 * header did not come from a browser's cross-site form or fetch (they always
 * send Origin on those), e.g. curl, and is let through.
 *
 * Global (APP_GUARD), so it runs before the routes' own guards.
 */
@Injectable()
export class OriginGuard implements CanActivate {
  private readonly allowed: ReadonlySet<string>;

  constructor(settings: DemoSettings) {
    this.allowed = new Set(settings.allowedOrigins);
  }

  canActivate(context: ExecutionContext): boolean {
    const request = context.getArgByIndex<IncomingMessage>(0);
    if (SAFE_METHODS.has(request.method ?? 'GET')) return true;
    const origin = single(request.headers.origin);
    if (origin !== undefined) {
      if (this.allowed.has(origin)) return true;
      throw this.refusal(request, `its Origin ${shown(origin)}`);
    }
    const referer = single(request.headers.referer);
    if (referer !== undefined) {
      if (this.allowed.has(originOfUrl(referer) ?? '')) return true;
      throw this.refusal(request, `its Referer ${shown(referer)}`);
    }
    return true;
  }

  private refusal(request: IncomingMessage, what: string): ForbiddenException {
    return new ForbiddenException(
      `cross-site ${request.method} refused: ${what} is not one of this demo's origins; open the demo at one of ${[...this.allowed].slice(0, 3).join(', ')}… or add the origin to DEMO_ALLOWED_ORIGINS`,
    );
  }
}

function single(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

function originOfUrl(url: string): string | undefined {
  try {
    return new URL(url).origin;
  } catch {
    return undefined;
  }
}

/** A header value in a message: JSON-quoted and cut (it came from anyone). */
function shown(value: string): string {
  return JSON.stringify(value.length > 100 ? `${value.slice(0, 100)}…` : value);
}
