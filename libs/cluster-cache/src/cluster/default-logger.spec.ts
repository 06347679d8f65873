import { INestApplicationContext, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ClusterCacheModule } from '../cluster-cache.module';
import { freeTcpPort } from '../discovery/testing/free-port';
import type { ClusterCacheOptions } from '../options/cluster-cache-options.interface';
import { waitFor } from '../transport/testing/wait-for';
import { ClusterService } from './cluster.service';

const COOKIE = 'default-logger-spec-cookie';
const HOST = '127.0.0.1';

/**
 * Nest's default logger prints every level, debug included. A node starting
 * next to others that are not up yet, or that dial it at the same moment, is
 * routine: it must not print DEBUG lines about connections (issue 16). Its own
 * file: Nest's logger is one per process, and another spec's would replace it.
 */
describe('the default logger at start', () => {
  const apps: INestApplicationContext[] = [];
  afterEach(async () => {
    await Promise.all(apps.splice(0).map((app) => app.close()));
  });

  async function node(name: string, port: number, options: ClusterCacheOptions): Promise<INestApplicationContext> {
    @Module({ imports: [ClusterCacheModule.forRoot({ cookie: COOKIE, ...options, node: { name, port } })] })
    class NodeModule {}
    const app = await NestFactory.createApplicationContext(NodeModule, { abortOnError: false }); // no logger option: Nest's default
    apps.push(app);
    return app;
  }

  it('prints no DEBUG line while nodes start one after the other and at once', async () => {
    const printed: string[] = [];
    const write = process.stdout.write.bind(process.stdout) as (chunk: string | Uint8Array, ...rest: unknown[]) => boolean;
    const capture = jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array, ...rest: unknown[]) => {
      printed.push(String(chunk));
      return write(chunk, ...rest);
    });
    try {
      const ports = await Promise.all([0, 1, 2, 3].map(() => freeTcpPort(HOST)));
      const seeds = ports.map((port) => `${HOST}:${port}`);
      // a finds no one (the others are not up yet); then b, c and d start at once and dial each other and a.
      const a = await node(`a@${HOST}`, ports[0], { extraNodes: seeds });
      const others = await Promise.all(['b', 'c', 'd'].map((id, i) => node(`${id}@${HOST}`, ports[i + 1], { extraNodes: seeds })));
      await waitFor(() => [a, ...others].every((app) => app.get(ClusterService).nodes().length === 3), 10_000, 'a full mesh');
      await new Promise((resolve) => setTimeout(resolve, 500));
    } finally {
      capture.mockRestore();
    }
    const lines = printed.join('').split('\n');
    expect(lines.some((line) => /Linked to/.test(line))).toBe(true); // the default logger printed the rest
    expect(lines.filter((line) => /\bDEBUG\b/.test(line))).toEqual([]);
  });
});
