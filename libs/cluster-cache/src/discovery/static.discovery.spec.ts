import { waitFor } from '../transport/testing/wait-for';
import { StaticDiscovery } from './static.discovery';
import { recordingContext } from './testing/discovery-context';

describe('StaticDiscovery', () => {
  it('reports its list at start and again every interval, including nodes that did not answer', async () => {
    const ctx = recordingContext({ port: 14000 });
    const strategy = new StaticDiscovery({ strategy: 'static', nodes: ['127.0.0.2:14000', '127.0.0.3:14000'], interval: 10 });
    strategy.start(ctx);
    // At once, so the node can join before its start decision.
    expect(ctx.reports).toEqual([['127.0.0.2:14000', '127.0.0.3:14000']]);
    await waitFor(() => ctx.reports.length >= 4, 5_000, 'reports every interval');
    // Every report is the whole list: the cluster (not the strategy) backs off from nodes that do
    // not answer, and relinks a node that comes back (test/discovery/static.e2e-spec.ts).
    expect(new Set(ctx.reports.map((r) => r.join()))).toEqual(new Set(['127.0.0.2:14000,127.0.0.3:14000']));
    strategy.stop();
    const reported = ctx.reports.length;
    const other = recordingContext({ port: 14001 });
    const clock = new StaticDiscovery({ strategy: 'static', nodes: ['127.0.0.9:1'], interval: 10 });
    clock.start(other);
    await waitFor(() => other.reports.length >= 5, 5_000, 'time passing');
    clock.stop();
    expect(ctx.reports.length).toBe(reported);
  });
});
