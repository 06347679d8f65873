/**
 * @nestjs/cache-manager on KeyvCacheStore: CacheInterceptor on two real app
 * nodes behind the round-robin balancer, on the mesh and on Redis. A GET
 * computed on one node is served from the cache by the other, which computes
 * nothing; @CacheTTL's milliseconds reach the cache as milliseconds.
 */
import { CACHE_MANAGER, CacheInterceptor, CacheModule, CacheTTL } from '@nestjs/cache-manager';
import { Controller, Get, Inject, Module, UseInterceptors } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import type { Cache } from 'cache-manager';
import type { NextFunction, Request, Response } from 'express';
import { CacheStore, ClusterCacheModule, ClusterCacheOptions } from '@app/cluster-cache';
import { KeyvCacheStore } from '@app/cluster-cache/keyv';
import { waitFor } from '../utils/wait-for';
import { BACKENDS, http, twoNodesDuring } from './harness';
import type { NodeName } from './harness';

const NODE = Symbol('node');
const COUNTS = Symbol('counts');

/** How many times this node computed each route. */
type Counts = Record<string, number>;

@Controller()
@UseInterceptors(CacheInterceptor)
class ReportController {
  constructor(
    @Inject(NODE) private readonly node: NodeName,
    @Inject(COUNTS) private readonly counts: Counts,
  ) {}

  @Get('report')
  report() {
    this.counts.report = (this.counts.report ?? 0) + 1;
    return { computedBy: this.node, at: Date.now(), rows: [1, 2, 3] };
  }

  @Get('short')
  @CacheTTL(1_500)
  short() {
    this.counts.short = (this.counts.short ?? 0) + 1;
    return { computedBy: this.node };
  }
}

async function cachingApp(node: NodeName, cacheOptions: ClusterCacheOptions, counts: Counts): Promise<NestExpressApplication> {
  @Module({
    imports: [
      ClusterCacheModule.forRoot(cacheOptions),
      CacheModule.registerAsync({
        inject: [CacheStore],
        useFactory: (cache: CacheStore) => ({ stores: [new KeyvCacheStore(cache)], ttl: 60_000 }),
      }),
    ],
    controllers: [ReportController],
    providers: [
      { provide: NODE, useValue: node },
      { provide: COUNTS, useValue: counts },
    ],
  })
  class AppModule {}

  const app = await NestFactory.create<NestExpressApplication>(AppModule, { logger: false });
  app.use((_: Request, response: Response, next: NextFunction) => {
    response.setHeader('x-node', node);
    next();
  });
  return app;
}

describe.each(BACKENDS)('CacheInterceptor on KeyvCacheStore, two nodes behind a round-robin balancer, on %s', (_, makeBackend) => {
  const counts: Record<NodeName, Counts> = { a: {}, b: {} };
  const nodes = twoNodesDuring(makeBackend, (name, options) => cachingApp(name, options, counts[name]));
  const manager = (name: NodeName) => nodes[name].app.get<Cache>(CACHE_MANAGER);


  it('serves on one node what the other computed and cached, computing it once', async () => {
    const first = await http(nodes.lb, 'GET', '/report');
    expect(first.status).toBe(200);
    expect(first.headers.get('x-cache')).toBe('MISS');
    const computedBy = first.node as NodeName;
    const other: NodeName = computedBy === 'a' ? 'b' : 'a';
    expect(first.body).toMatchObject({ computedBy });
    expect(counts[computedBy].report).toBe(1);

    // CacheInterceptor writes the cache as the response goes out: wait until the other node reads it.
    await waitFor(async () => (await manager(other).get('/report')) !== undefined, 5_000, `node ${other} to read the cached report`);
    const second = await http(nodes.lb, 'GET', '/report');
    expect(second.node).toBe(other);
    expect(second.headers.get('x-cache')).toBe('HIT');
    expect(second.body).toEqual(first.body);
    expect(counts[other].report).toBeUndefined(); // never computed there

    for (const name of ['a', 'b'] as const) expect((await http(nodes[name].url, 'GET', '/report')).body).toEqual(first.body);
    expect(counts[computedBy].report).toBe(1);
  });

  it("stores CacheModule's and @CacheTTL's milliseconds as milliseconds, and a delete on one node misses on the other", async () => {
    const store = new KeyvCacheStore(nodes.a.app.get(CacheStore)).cache;
    await http(nodes.a.url, 'GET', '/short');
    await waitFor(async () => (await manager('b').get('/short')) !== undefined, 5_000, 'node b to read /short');
    const now = Date.now();
    // CacheModule registers Keyv without a namespace: keys are stored under ['', key].
    expect((await store.expiresAt(['', '/short']))! - now).toBeGreaterThan(500);
    expect((await store.expiresAt(['', '/short']))! - now).toBeLessThanOrEqual(1_500);
    expect((await store.expiresAt(['', '/report']))! - now).toBeGreaterThan(50_000);
    expect((await store.expiresAt(['', '/report']))! - now).toBeLessThanOrEqual(60_000);

    await manager('b').del('/report');
    expect(await manager('a').get('/report')).toBeUndefined();
    const again = await http(nodes.a.url, 'GET', '/report');
    expect(again.headers.get('x-cache')).toBe('MISS');
    expect((counts.a.report ?? 0) + (counts.b.report ?? 0)).toBe(2);
  });
});
