import { freeUdpPort } from '@app/cluster-cache/discovery/testing/free-port';
import type { DiscoveryContext, DiscoveryStrategy } from '@app/cluster-cache/discovery';
import { waitFor } from '../utils/wait-for';
import { closeAll, expectReplicated, logs, startNode, waitForMesh } from './support';

/** A user's own strategy, defined here as a user would: reports what it is told to, when told. */
class ListDiscovery implements DiscoveryStrategy {
  context: DiscoveryContext | undefined;
  starts = 0;
  stops = 0;

  constructor(private readonly addresses: () => string[] = () => []) {}

  start(context: DiscoveryContext): void {
    this.starts++;
    this.context = context;
    context.found(this.addresses());
  }

  /** Reports more addresses later, as a strategy polling some registry would. */
  report(addresses: string[]): void {
    this.context!.found(addresses);
  }

  async stop(): Promise<void> {
    this.stops++;
    this.context = undefined;
  }
}

describe('custom discovery strategies', () => {
  afterEach(() => closeAll());

  it('starts a user strategy, links what it reports (at start or later), and stops it on shutdown', async () => {
    const [a, c] = await Promise.all([startNode({ node: { name: 'a@127.0.0.91' } }), startNode({ node: { name: 'c@127.0.0.93' } })]);
    const mine = new ListDiscovery(() => [a.address()]);
    const b = await startNode({ node: { name: 'b@127.0.0.92' }, discovery: [{ strategy: 'custom', use: mine }] });
    expect(mine.starts).toBe(1);
    expect(mine.context!.self.name).toBe('b@127.0.0.92');
    expect(mine.context!.self.port).toBeGreaterThan(0);
    await waitForMesh([a, b]);
    await expectReplicated(a, [b], 'custom');

    mine.report([c.address()]);
    await waitForMesh([a, b, c]);
    await expectReplicated(c, [a, b], 'custom-later');

    await b.close();
    expect(mine.stops).toBe(1);
    expect(mine.context).toBeUndefined();
  });

  it('logs a strategy whose start() throws, and the node still starts', async () => {
    const broken: DiscoveryStrategy = {
      start: () => {
        throw new Error('registry unreachable');
      },
      stop: () => undefined,
    };
    const node = await startNode({ node: { name: 'z@127.0.0.94' }, discovery: [{ strategy: 'custom', use: broken }] });
    expect(node.cluster.ready).toBe(true);
    expect(logs.has('error', /discovery strategy .* failed to start: Error: registry unreachable/)).toBe(true);
  });

  it('runs several strategies at once: gossip finds one node, a custom strategy another', async () => {
    const port = await freeUdpPort();
    const gossip = { strategy: 'gossip' as const, interface: '127.0.0.1', port, interval: 100 };
    // z is not on the gossip group: only the custom strategy of x knows it.
    const z = await startNode({ node: { name: 'z@127.0.0.97' } });
    const [x, y] = await Promise.all([
      startNode({ node: { name: 'x@127.0.0.95' }, discovery: [gossip, { strategy: 'custom', use: new ListDiscovery(() => [z.address()]) }] }),
      startNode({ node: { name: 'y@127.0.0.96' }, discovery: [gossip] }),
    ]);
    // x links y (gossip) and z (custom); y and z then meet through x's membership list.
    await waitForMesh([x, y, z]);
    await waitFor(() => x.cluster.ready && y.cluster.ready && z.cluster.ready, 10_000, 'all ready');
    await expectReplicated(y, [x, z], 'two-strategies');
  });
});
