import { startNode, TestNode } from '../utils/cluster-app';
import { waitFor } from '../utils/wait-for';

/**
 * Values that fit one frame each but not together: a turn's write batch and a
 * join's copy chunk are larger than the 16 MiB frame limit and must go as
 * several messages (real TCP, nodes booted in this process).
 */
describe('large values between nodes over TCP', () => {
  const nodes: TestNode[] = [];
  const big = (i: number) => ({ blob: `${i}:`.padEnd(700_000, 'x') });

  afterAll(async () => {
    await Promise.all(nodes.map((n) => n.close()));
  });

  it('replicates a turn of 30 puts of 700 kB (21 MB) in parts, and a joining node copies them', async () => {
    const a = await startNode({ node: { name: 'a@127.0.0.91', port: 0 } });
    nodes.push(a);
    const b = await startNode({ node: { name: 'b@127.0.0.92', port: 0 }, extraNodes: [a.address] });
    nodes.push(b);
    await waitFor(() => a.cluster.nodes().length === 1 && b.cluster.ready, 10_000, 'a and b linked');

    // One event-loop turn: one batch of 30 states, encoded larger than a frame.
    await Promise.all(Array.from({ length: 30 }, (_, i) => a.cache.put(`big${i}`, big(i))));
    for (let i = 0; i < 30; i++) expect((b.cache.get(`big${i}`) as { blob: string }).blob).toBe(big(i).blob);
    expect(a.cluster.nodes().map((n) => n.name)).toEqual(['b@127.0.0.92']); // the link survived

    // A third node copies all of it: one copy chunk, also larger than a frame.
    const c = await startNode({ node: { name: 'c@127.0.0.93', port: 0 }, extraNodes: [a.address] });
    nodes.push(c);
    await waitFor(() => c.cluster.ready, 20_000, 'c joined');
    for (let i = 0; i < 30; i++) expect((c.cache.get(`big${i}`) as { blob: string }).blob).toBe(big(i).blob);

    // Writes keep flowing afterwards, and no node logged an error.
    await a.cache.put('after', 1);
    expect(b.cache.get('after')).toBe(1);
    expect(c.cache.get('after')).toBe(1);
    expect([...a.logs(), ...b.logs(), ...c.logs()].filter((l) => /error|failed/i.test(l))).toEqual([]);
  }, 60_000);
});
