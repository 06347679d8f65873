import { GossipDiscovery } from '@app/cluster-cache/discovery';
import { freeUdpPort } from '@app/cluster-cache/discovery/testing/free-port';
import { waitFor } from '../utils/wait-for';
import { closeAll, expectReplicated, logs, startNode, waitForMesh } from './support';

/**
 * Gossip discovery between real nodes (ClusterCacheModule apps in this
 * process), each on its own 127.0.0.x address, multicasting on loopback
 * (interface 127.0.0.1). Each test uses its own free UDP port.
 */
describe('gossip discovery on loopback (interface 127.0.0.1)', () => {
  let port: number;

  beforeEach(async () => {
    port = await freeUdpPort();
  });

  afterEach(() => closeAll());

  const gossip = (extra: object = {}) => ({ strategy: 'gossip' as const, interface: '127.0.0.1', port, interval: 100, ...extra });

  it('links the nodes and replicates writes; a cluster with another cookie on the same group never joins', async () => {
    // The intruder's strategy is passed as a custom one, to read its counters.
    const intruderGossip = new GossipDiscovery({ interface: '127.0.0.1', port, interval: 100 });
    const [a, b, intruder] = await Promise.all([
      startNode({ node: { name: 'a@127.0.0.61' }, discovery: [gossip()] }),
      startNode({ node: { name: 'b@127.0.0.62' }, discovery: [gossip()] }),
      startNode({ node: { name: 'x@127.0.0.63' }, cookie: 'another-cookie-0123456789', discovery: [{ strategy: 'custom', use: intruderGossip }] }),
    ]);
    await waitForMesh([a, b]);
    await expectReplicated(a, [b], 'plain');
    await expectReplicated(b, [a], 'plain-back');

    // The intruder hears a and b, but cannot authenticate them (and they cannot authenticate it).
    await waitFor(() => intruderGossip.stats().unauthenticated >= 6, 10_000, 'the intruder dropping heartbeats');
    expect(intruderGossip.stats().accepted).toBe(0);
    expect(intruder.peers()).toEqual([]);
    expect(a.peers()).toEqual(['b@127.0.0.62']);
    expect(b.peers()).toEqual(['a@127.0.0.61']);
    expect(logs.has('log', new RegExp(`gossip discovery: multicast heartbeats to 233\\.252\\.1\\.32:${port} \\(ttl 1\\) on 127\\.0\\.0\\.1`))).toBe(true);
  });

  it('with a secret: nodes sharing it link; a node with another secret, or the secret but another cookie, is not linked', async () => {
    const secret = 'e2e-gossip-secret-0123456789';
    const otherSecret = new GossipDiscovery({ interface: '127.0.0.1', port, interval: 100, secret: 'another-secret-0123456789' });
    const otherCookie = new GossipDiscovery({ interface: '127.0.0.1', port, interval: 100, secret });
    const aGossip = new GossipDiscovery({ interface: '127.0.0.1', port, interval: 100, secret });
    const [a, b, c, d] = await Promise.all([
      startNode({ node: { name: 'a@127.0.0.64' }, discovery: [{ strategy: 'custom', use: aGossip }] }),
      startNode({ node: { name: 'b@127.0.0.65' }, discovery: [gossip({ secret })] }),
      startNode({ node: { name: 'c@127.0.0.66' }, discovery: [{ strategy: 'custom', use: otherSecret }] }),
      startNode({ node: { name: 'd@127.0.0.67' }, cookie: 'another-cookie-0123456789', discovery: [{ strategy: 'custom', use: otherCookie }] }),
    ]);
    await waitForMesh([a, b]);
    await expectReplicated(b, [a], 'sealed');
    await waitFor(
      () => otherSecret.stats().unauthenticated >= 6 && otherCookie.stats().unauthenticated >= 6 && aGossip.stats().unauthenticated >= 4,
      10_000,
      'heartbeats dropped both ways',
    );
    expect(otherSecret.stats().accepted).toBe(0);
    expect(otherCookie.stats().accepted).toBe(0);
    expect(aGossip.stats().accepted).toBeGreaterThan(0);
    expect(c.peers()).toEqual([]);
    expect(d.peers()).toEqual([]);
    expect(a.peers()).toEqual(['b@127.0.0.65']);
    expect(b.peers()).toEqual(['a@127.0.0.64']);
  });

  it('a node that restarts (new incarnation, sequence from 1 again) is found and linked again', async () => {
    const [a, b] = await Promise.all([
      startNode({ node: { name: 'a@127.0.0.68' }, discovery: [gossip()] }),
      startNode({ node: { name: 'b@127.0.0.69' }, discovery: [gossip()] }),
    ]);
    await waitForMesh([a, b]);
    const before = b.cluster.self().incarnation;
    await b.close();
    await waitFor(() => a.peers().length === 0, 10_000, 'b gone');
    const b2 = await startNode({ node: { name: 'b@127.0.0.69' }, discovery: [gossip()] });
    expect(b2.cluster.self().incarnation).not.toBe(before);
    await waitForMesh([a, b2]);
    await expectReplicated(b2, [a], 'restarted');
  });
});
