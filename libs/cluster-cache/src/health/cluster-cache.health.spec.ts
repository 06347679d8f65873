import { HealthIndicatorService } from '@nestjs/terminus';
import type { ClusterService, ClusterStats } from '../cluster/cluster.service';
import { ClusterCacheHealthIndicator } from './cluster-cache.health';

function indicator(overrides: Partial<ClusterStats>) {
  const stats: ClusterStats = {
    node: 'a@h',
    ready: true,
    peers: ['b@h'],
    entries: { sessions: 3 },
    backlog: {},
    lag: {},
    unhealed: [],
    refused: {},
    heals: { healed: 0, failed: 0 },
    ...overrides,
  };
  const cluster = { stats: () => stats } as unknown as ClusterService;
  return new ClusterCacheHealthIndicator(new HealthIndicatorService(), cluster).isHealthy()['cluster-cache'] as { status: string; message?: string };
}

const disk = { file: '/data/cache.mdb', writing: true, behind: [], failedWrites: 0, damaged: 0, unrepaired: 0 };

describe('ClusterCacheHealthIndicator and the disk copy', () => {
  it('is up while writes reach the disk', () => {
    expect(indicator({ disk }).status).toBe('up');
    expect(indicator({}).status).toBe('up'); // no persistence
  });

  it('is degraded, saying why, while writes do not reach the disk', () => {
    const report = indicator({
      disk: { ...disk, writing: false, failure: 'the disk has 800 KiB free, and a write needs about 84 KiB on top of the 1 MiB kept free', behind: ['sessions'], failedWrites: 7 },
    });
    expect(report.status).toBe('degraded');
    expect(report.message).toBe(
      'disk: writes to /data/cache.mdb fail: the disk has 800 KiB free, and a write needs about 84 KiB on top of the 1 MiB kept free; ' +
        'the disk copy of sessions misses writes and is rewritten from memory once the disk takes writes again',
    );
  });

  it('is degraded while damaged records found at start were not replaced by a peer\'s copy', () => {
    const report = indicator({ disk: { ...disk, damaged: 2, unrepaired: 1 } });
    expect(report.status).toBe('degraded');
    expect(report.message).toBe('disk: 1 damaged record(s) in /data/cache.mdb were skipped at start and no peer\'s copy has replaced them yet (see the log)');
    expect(indicator({ disk: { ...disk, damaged: 2, unrepaired: 0 } }).status).toBe('up');
  });

  it('is down, not degraded, while the node is not ready', () => {
    expect(indicator({ ready: false, disk: { ...disk, writing: false } }).status).toBe('down');
  });
});

describe('ClusterCacheHealthIndicator and peers that were asked for', () => {
  it('shows a lone node: ready with no peer linked while the options name other nodes (degraded, lone: true)', () => {
    const report = indicator({ peers: [], expectedPeers: { minPeers: 0, configured: true } }) as { status: string; message?: string; lone?: boolean };
    expect(report.status).toBe('degraded');
    expect(report.lone).toBe(true);
    expect(report.message).toBe(
      'lone node: no peer linked, though the options name other nodes (extraNodes, discovery or minPeers); sessions made here reach no other node until one links (see the log for why)',
    );
  });

  it('is up alone when nothing named other nodes, and up once a peer is linked', () => {
    expect(indicator({ peers: [], expectedPeers: { minPeers: 0, configured: false } }).status).toBe('up');
    expect(indicator({ peers: [] }).status).toBe('up'); // no cookie: runs alone by design
    const linked = indicator({ peers: ['b@h'], expectedPeers: { minPeers: 1, configured: true } }) as { status: string; lone?: boolean };
    expect(linked.status).toBe('up');
    expect(linked.lone).toBeUndefined();
  });

  it('is down while the node waits for minPeers peers, saying how many it has', () => {
    const report = indicator({ ready: false, peers: [], expectedPeers: { minPeers: 2, configured: true } });
    expect(report.status).toBe('down');
    expect(report.message).toBe('not ready: waiting for at least 2 peer(s) (minPeers), 0 linked');
    expect(indicator({ ready: false, peers: ['b@h', 'c@h'], expectedPeers: { minPeers: 2, configured: true } }).message).toBe('not ready: still joining the cluster');
  });
});
