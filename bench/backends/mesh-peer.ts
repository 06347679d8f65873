/**
 * The mesh's second node for bench/backends/backends.bench.ts, in its own
 * process (as redis-server is): the library booted with
 * ClusterCacheModule.forRoot, RAM only, listening on 127.0.0.1 on a free port.
 *
 *   node -r @swc-node/register bench/backends/mesh-peer.ts
 *
 * Prints one line `{"port": N}` on stdout once it listens; then answers each
 * `cpu` line on stdin with `{"cpuUs": N}`, its process CPU time so far (user +
 * system, µs). Ends (closing the node) on SIGTERM/SIGINT or when its stdin
 * closes, so it never outlives the benchmark, whatever way that ends.
 */
import 'reflect-metadata';
import { createInterface } from 'node:readline';
import { ConsoleLogger } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { ClusterCacheModule, ClusterService } from '@app/cluster-cache';
import { MESH_OPTIONS } from './mesh-options';

async function main(): Promise<void> {
  const moduleRef = await Test.createTestingModule({
    imports: [ClusterCacheModule.forRoot({ ...MESH_OPTIONS, node: { name: 'peer@127.0.0.1', port: 0 } })],
  })
    .setLogger(new ConsoleLogger({ logLevels: ['warn', 'error'] }))
    .compile();
  await moduleRef.init();
  let closing: Promise<void> | undefined;
  const shutdown = (): Promise<void> =>
    (closing ??= moduleRef
      .close()
      .catch((error: unknown) => void process.stderr.write(`mesh peer close: ${String(error)}\n`))
      .finally(() => process.exit(0)));
  process.once('SIGTERM', () => void shutdown());
  process.once('SIGINT', () => void shutdown());
  process.stdin.on('end', () => void shutdown());
  process.stdin.on('close', () => void shutdown());
  createInterface({ input: process.stdin }).on('line', (line) => {
    if (line.trim() !== 'cpu') return;
    const { user, system } = process.cpuUsage();
    process.stdout.write(`${JSON.stringify({ cpuUs: user + system })}\n`);
  });
  process.stdout.write(`${JSON.stringify({ port: moduleRef.get(ClusterService).self().port })}\n`);
}

main().catch((error) => {
  process.stderr.write(`${error?.stack ?? error}\n`);
  process.exit(1);
});
