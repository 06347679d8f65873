import { Controller, Get, HttpCode, Res } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import { ClusterService } from '@app/cluster-cache';
import { renderPage } from './page.html';

@Controller()
export class PageController {
  constructor(private readonly cluster: ClusterService) {}

  /** The demo page. Its inline script and style run under a nonce; nothing is loaded from elsewhere. */
  @Get()
  page(@Res({ passthrough: true }) response: ServerResponse): string {
    const nonce = randomBytes(16).toString('base64');
    response.setHeader('Content-Type', 'text/html; charset=utf-8');
    response.setHeader('Cache-Control', 'no-store');
    response.setHeader(
      'Content-Security-Policy',
      `default-src 'none'; script-src 'nonce-${nonce}'; style-src 'nonce-${nonce}'; connect-src 'self'; img-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'`,
    );
    return renderPage(this.cluster.self().name, nonce);
  }

  /**
   * A tiny unguarded JSON answer: a liveness probe, and the baseline that
   * bench/http/load.bench.ts compares the guarded GET /me against.
   */
  @Get('ping')
  ping(): { pong: true; servedBy: string } {
    return { pong: true, servedBy: this.cluster.self().name };
  }

  /** No icon: answered so that browsers do not log a 404. */
  @Get('favicon.ico')
  @HttpCode(204)
  favicon(): void {}
}
