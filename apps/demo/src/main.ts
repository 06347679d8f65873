import { Logger, LogLevel } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { configureDemoApp } from './demo-app';
import { DemoModule } from './demo.module';

/** LOG_LEVEL=debug (or verbose) shows the cache's debug lines too; the default is log. */
function logLevels(level = process.env.LOG_LEVEL || 'log'): LogLevel[] {
  const all: LogLevel[] = ['fatal', 'error', 'warn', 'log', 'debug', 'verbose'];
  const upTo = all.indexOf(level as LogLevel);
  return all.slice(0, upTo === -1 ? all.indexOf('log') + 1 : upTo + 1);
}

/**
 * One demo node. HTTP on HOST:PORT (default 127.0.0.1:3000); the cluster
 * settings come from NODE_NAME, CLUSTER_PORT, CLUSTER_COOKIE, CACHE_DIR,
 * CLUSTER_SEEDS, SESSION_TTL and SESSION_RENEW_AFTER (see docs/demo.md).
 * SIGINT/SIGTERM leave the cluster gracefully before the process ends.
 * LOG_LEVEL (fatal, error, warn, log, debug, verbose) sets how much is logged.
 */
async function bootstrap(): Promise<void> {
  const app = configureDemoApp(await NestFactory.create(DemoModule, { logger: logLevels() }));
  app.enableShutdownHooks();
  const port = Number(process.env.PORT ?? 3000);
  const host = process.env.HOST || '127.0.0.1';
  await app.listen(port, host);
  new Logger('Demo').log(`node ${process.env.NODE_NAME ?? '(unnamed)'} serves http://${host}:${port}/ (pid ${process.pid})`);
}

bootstrap().catch((error: unknown) => {
  new Logger('Demo').error(error instanceof Error ? (error.stack ?? error.message) : String(error));
  process.exit(1);
});
