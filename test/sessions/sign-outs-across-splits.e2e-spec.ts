import type { ClusterCacheOptions } from '@app/cluster-cache';
import { startNode, TestNode } from '../utils/cluster-app';
import { waitFor } from '../utils/wait-for';

/** Fast failure detection and the merge heal. */
const OPTIONS: ClusterCacheOptions = {
  timing: { heartbeatInterval: 200, deadPeerTimeout: 1000, ackTimeout: 1000 },
  unsplit: { strategy: 'merge' },
};

/**
 * Two nodes over real TCP on their own loopback addresses, parted with
 * `ClusterService.disconnect` (no nftables): sign-outs made on the side that
 * never saw the sessions still end them once the split heals (issue 13).
 */
describe('sign-outs across a netsplit (real TCP)', () => {
  let a: TestNode | undefined;
  let b: TestNode | undefined;
  afterEach(async () => {
    await Promise.all([a?.close(), b?.close()]);
    a = b = undefined;
  });

  it('a delete and a revokeAll on the side that never saw the sessions end them on both nodes after the heal', async () => {
    let apart = false;
    a = await startNode({ ...OPTIONS, node: { name: 'a@127.0.95.1', port: 0 } });
    const seed = a.address;
    b = await startNode({
      ...OPTIONS,
      node: { name: 'b@127.0.95.2', port: 0 },
      extraNodes: () => (apart ? [] : [seed]), // no reconnection from b's side while apart
      // b's clock runs 1 s ahead of a's (well within what NTP keeps): its sign-outs come after a's sign-ins
      // by the clocks without a wait, so the steps below run in one turn, with no chance for the link to come back.
      clock: { now: () => Date.now() + 1000 },
    });
    const [nodeA, nodeB] = [a, b];
    await waitFor(() => nodeA.cluster.nodes().length === 1 && nodeB.cluster.nodes().length === 1, 10_000, 'a and b linked');
    const shared = await nodeA.sessions.create('grace', { device: 'before the split' });
    expect(nodeB.sessions.get(shared.token)).toBeDefined();

    apart = true;
    nodeA.cluster.disconnect(nodeB.cluster.self().name);
    await waitFor(() => nodeA.cluster.nodes().length === 0 && nodeB.cluster.nodes().length === 0, 10_000, 'a and b apart');

    // On a: sign-ins b never hears of, and a renewal of the shared session.
    const signedOut = await nodeA.sessions.create('ada');
    const farSide = await nodeA.sessions.create('grace', { device: 'a, during the split' });
    expect(await nodeA.sessions.touch(shared.token)).toBeDefined();
    // On b: a sign-out of a token it does not know, and "sign out everywhere".
    expect(await nodeB.sessions.delete(signedOut.token)).toBe(false);
    expect(await nodeB.sessions.revokeAll('grace')).toBe(1); // the shared session only
    const signedInAgain = await nodeB.sessions.create('grace', { device: 'b, after its revokeAll' });
    expect(nodeA.cluster.nodes()).toEqual([]); // still apart: all of the above happened during the split
    expect(nodeA.sessions.list('grace')).toHaveLength(2);

    apart = false;
    await waitFor(() => nodeA.events.some((e) => e.type === 'healed') && nodeB.events.some((e) => e.type === 'healed'), 20_000, 'the heal');
    await waitFor(() => JSON.stringify(nodeA.cluster.digest()) === JSON.stringify(nodeB.cluster.digest()), 10_000, 'equal data');
    for (const node of [nodeA, nodeB]) {
      expect(node.sessions.get(signedOut.token)).toBeUndefined();
      expect(node.sessions.get(farSide.token)).toBeUndefined();
      expect(node.sessions.get(shared.token)).toBeUndefined();
      expect(node.sessions.list('ada')).toEqual([]);
      expect(node.sessions.list('grace').map((s) => s.metadata)).toEqual([{ device: 'b, after its revokeAll' }]);
      expect(node.sessions.get(signedInAgain.token)?.userId).toBe('grace');
    }
  });
});
