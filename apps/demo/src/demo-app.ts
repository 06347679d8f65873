import type { INestApplication } from '@nestjs/common';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ClusterService } from '@app/cluster-cache';

/**
 * What the demo adds to the Nest app beyond its module: every response
 * (errors and 404s included) says which node served it in `x-served-by`, and
 * proxies on loopback (the demo's load balancer) are trusted to say who the
 * client is in X-Forwarded-For: `request.ip` is then the client's address
 * (for the sign-in limit and the loopback check of /cluster and /metrics),
 * while a client that connects directly cannot pretend to be someone else.
 * Used by main.ts and by the in-process tests.
 */
export function configureDemoApp(app: INestApplication): INestApplication {
  const node = app.get(ClusterService).self().name;
  const express = app.getHttpAdapter().getInstance() as { disable?: (setting: string) => void; set?: (setting: string, value: unknown) => void };
  express.disable?.('x-powered-by');
  express.set?.('trust proxy', 'loopback');
  app.use((_request: IncomingMessage, response: ServerResponse, next: () => void) => {
    response.setHeader('x-served-by', node);
    next();
  });
  return app;
}
