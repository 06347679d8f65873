import type { INestApplication } from '@nestjs/common';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ClusterService } from '@app/cluster-cache';

/**
 * What the demo adds to the Nest app beyond its module: every response
 * (errors and 404s included) says which node served it in `x-served-by`.
 * Used by main.ts and by the in-process tests.
 */
export function configureDemoApp(app: INestApplication): INestApplication {
  const node = app.get(ClusterService).self().name;
  const express = app.getHttpAdapter().getInstance() as { disable?: (setting: string) => void };
  express.disable?.('x-powered-by');
  app.use((_request: IncomingMessage, response: ServerResponse, next: () => void) => {
    response.setHeader('x-served-by', node);
    next();
  });
  return app;
}
