import { CanActivate, ExecutionContext, ForbiddenException, Injectable } from '@nestjs/common';
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { DemoSettings } from '../config/demo-settings';
import { clientAddress, isLoopback } from './client-address';

/**
 * Guards what only the operator should see (GET /cluster: members, addresses,
 * events, counters; GET /metrics): served to loopback clients — someone on
 * the machine itself, also through the demo's load balancer — and, if
 * DEMO_ADMIN_TOKEN is set, to anyone who sends `Authorization: Bearer <token>`
 * (a Prometheus on another host). Everyone else gets a 403.
 */
@Injectable()
export class AdminGuard implements CanActivate {
  private readonly token: Buffer | undefined;

  constructor(settings: DemoSettings) {
    this.token = settings.adminToken === undefined ? undefined : digest(settings.adminToken);
  }

  canActivate(context: ExecutionContext): boolean {
    const request = context.getArgByIndex<IncomingMessage>(0);
    if (this.hasToken(request) || isLoopback(clientAddress(request))) return true;
    throw new ForbiddenException(
      this.token === undefined
        ? 'this node serves /cluster and /metrics to loopback clients only; set DEMO_ADMIN_TOKEN on the nodes to let others in with Authorization: Bearer <token>'
        : 'this node serves /cluster and /metrics to loopback clients, and to others with Authorization: Bearer <DEMO_ADMIN_TOKEN>',
    );
  }

  private hasToken(request: IncomingMessage): boolean {
    if (this.token === undefined) return false;
    const given = /^Bearer (\S+)$/i.exec(request.headers.authorization ?? '')?.[1];
    // Digests of equal length: the comparison says nothing about the token's length.
    return given !== undefined && timingSafeEqual(digest(given), this.token);
  }
}

function digest(token: string): Buffer {
  return createHash('sha256').update(token).digest();
}
