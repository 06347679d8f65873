import { Injectable } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { ANY, ClusterCache, ClusterService, SessionCache } from '@app/cluster-cache';
import { ClusterCacheTestingModule, ManualClock } from '@app/cluster-cache/testing';

/** A user's own service, tested the way a user would with the testing module. */
@Injectable()
class SignInService {
  constructor(
    private readonly sessions: SessionCache<{ device: string }>,
    private readonly cache: ClusterCache,
  ) {}

  async signIn(user: string, device: string): Promise<string> {
    await this.cache.put(['last-sign-in', user], device, { ttl: 60_000 });
    return (await this.sessions.create(user, { device })).token;
  }

  devices(user: string): string[] {
    return this.sessions.list(user).map((s) => s.metadata.device);
  }
}

describe('ClusterCacheTestingModule (as a user would use it)', () => {
  it('gives an in-memory single-node cache with a clock the test moves', async () => {
    const clock = new ManualClock();
    const moduleRef = await Test.createTestingModule({
      imports: [ClusterCacheTestingModule.forRoot({ clock, sessions: { ttl: 60_000 } })],
      providers: [SignInService],
    }).compile();
    await moduleRef.init();
    const service = moduleRef.get(SignInService);
    const sessions = moduleRef.get(SessionCache);
    const token = await service.signIn('ada', 'laptop');
    await service.signIn('ada', 'phone');
    expect(service.devices('ada').sort()).toEqual(['laptop', 'phone']);
    expect(moduleRef.get(ClusterCache).all(['last-sign-in', ANY])).toEqual([[['last-sign-in', 'ada'], 'phone']]);
    expect(moduleRef.get(ClusterService).nodes()).toEqual([]);
    clock.advance(60_000);
    expect(sessions.get(token)).toBeUndefined();
    expect(service.devices('ada')).toEqual([]);
    await moduleRef.close();
  });
});
