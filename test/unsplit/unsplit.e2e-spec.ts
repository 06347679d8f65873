import { ANY, ClusterCache, ClusterCacheModule, getClusterCacheToken } from '@app/cluster-cache';
import { TestCluster } from '@app/cluster-cache/testing';
import type { ClusterCacheOptions } from '@app/cluster-cache';

/** Fast failure detection so splits are seen in about a second. */
const FAST: ClusterCacheOptions['timing'] = { heartbeatInterval: 200, deadPeerTimeout: 1000, ackTimeout: 1000 };

const tables = [
  ClusterCacheModule.forFeature({ name: 'jobs', mode: 'local', ttl: 600_000 }, { name: 'other', mode: 'replicated', ttl: 600_000 }),
];

function table(cluster: TestCluster, i: number, name: string): ClusterCache {
  return cluster.nodes[i].app.get(getClusterCacheToken(name));
}

/** Real partitions (kernel-dropped packets between loopback addresses), real TCP. */
describe('netsplits and Unsplit', () => {
  let cluster: TestCluster | undefined;
  afterEach(async () => {
    await cluster?.close();
    cluster = undefined;
  });

  /** Writes on both sides of a 0|1 split: same key, own keys, a revoke on 0 and a renewal on 1. */
  async function divergeTwo(c: TestCluster) {
    const [a, b] = c.nodes;
    const { token } = await a.sessions.create('ada', { device: 'laptop' });
    await a.cache.put('base', 'before the split');
    await table(c, 0, 'jobs').put('job', 'a-local');
    await table(c, 1, 'jobs').put('job', 'b-local');
    c.split([0], [1]);
    await c.waitForSplit([[0], [1]]);
    await a.cache.put('same', 'from a');
    await a.cache.put('only-a', 1);
    await a.sessions.delete(token); // revoked on a …
    await new Promise((r) => setTimeout(r, 5)); // (a later wall-clock time for b's writes; not a wait for a condition)
    await b.cache.put('same', 'from b');
    await b.cache.put('only-b', 2);
    expect(await b.sessions.touch(token)).toBeDefined(); // … renewed on b, which has not seen the revoke
    await table(c, 0, 'jobs').put('job-split', 'a');
    await table(c, 1, 'other').put('other-b', 'b');
    return token;
  }

  it('without Unsplit: reconnects, says the data is inconsistent, keeps what diverged', async () => {
    cluster = await TestCluster.start({ size: 2, subnet: '127.0.71', options: { timing: FAST }, imports: tables });
    const [a, b] = cluster.nodes;
    await divergeTwo(cluster);
    cluster.heal();
    await cluster.waitForMesh();
    await cluster.waitFor(() => a.events.some((e) => e.type === 'inconsistent_database'), 10_000, 'inconsistent_database');
    expect(a.events).toContainEqual({ type: 'inconsistent_database', context: 'running_partitioned_network', node: b.name });
    expect([a.cache.get('same'), b.cache.get('same')]).toEqual(['from a', 'from b']);
    await a.cache.put('after', 'replicates again');
    expect(b.cache.get('after')).toBe('replicates again');
  });

  it('merge: keeps every write, resolves same-key writes alike, and a revoked session stays revoked', async () => {
    cluster = await TestCluster.start({ size: 2, subnet: '127.0.72', options: { timing: FAST, unsplit: { strategy: 'merge' } }, imports: tables });
    const [a, b] = cluster.nodes;
    const token = await divergeTwo(cluster);
    cluster.heal();
    await cluster.waitFor(() => a.events.some((e) => e.type === 'healed') && b.events.some((e) => e.type === 'healed'), 15_000, 'healed on both');
    for (const n of [a, b]) {
      expect(n.cache.get('same')).toBe('from b');
      expect([n.cache.get('only-a'), n.cache.get('only-b'), n.cache.get('base')]).toEqual([1, 2, 'before the split']);
      expect(n.sessions.get(token)).toBeUndefined();
      expect(n.sessions.list('ada')).toEqual([]);
    }
    expect(table(cluster, 0, 'other').get('other-b')).toBe('b');
    // Local tables are never touched by a heal.
    expect(table(cluster, 0, 'jobs').all(ANY)).toEqual([['job', 'a-local'], ['job-split', 'a']]);
    expect(table(cluster, 1, 'jobs').all(ANY)).toEqual([['job', 'b-local']]);
    const [da, db] = cluster.digests();
    expect(da).toBe(db);
  });

  it('oldest-wins: the island of the oldest node keeps its data, the other reloads; local tables untouched', async () => {
    cluster = await TestCluster.start({ size: 2, subnet: '127.0.73', options: { timing: FAST, unsplit: { strategy: 'oldest-wins', flushTables: ['other'] } }, imports: tables });
    const [a, b] = cluster.nodes; // a started first: the oldest
    const token = await divergeTwo(cluster);
    cluster.heal();
    await cluster.waitFor(() => a.events.some((e) => e.type === 'healed'), 15_000, 'healed');
    await cluster.waitFor(() => cluster!.digests()[0] === cluster!.digests()[1], 5000, 'equal digests');
    for (const n of [a, b]) {
      expect(n.cache.get('same')).toBe('from a');
      expect(n.cache.get('only-a')).toBe(1);
      expect(n.cache.get('only-b')).toBeUndefined();
      expect(n.sessions.get(token)).toBeUndefined();
    }
    expect(table(cluster, 1, 'other').get('other-b')).toBeUndefined();
    expect(table(cluster, 1, 'jobs').all(ANY)).toEqual([['job', 'b-local']]);
    expect(table(cluster, 0, 'jobs').all(ANY)).toEqual([['job', 'a-local'], ['job-split', 'a']]);
  });

  it('oldest-wins: a replicated table that may not be flushed blocks the heal with an error naming it', async () => {
    cluster = await TestCluster.start({ size: 2, subnet: '127.0.74', options: { timing: FAST, unsplit: { strategy: 'oldest-wins' } }, imports: tables });
    const [a, b] = cluster.nodes;
    await divergeTwo(cluster);
    cluster.heal();
    await cluster.waitFor(() => a.events.some((e) => e.type === 'heal_failed'), 15_000, 'heal_failed');
    expect(a.events.find((e) => e.type === 'heal_failed')).toMatchObject({ node: b.name, reason: expect.stringContaining(`Can't force reload unexpected tables ["other"]`) });
    // The islands keep their own data.
    expect([a.cache.get('same'), b.cache.get('same')]).toEqual(['from a', 'from b']);
  });

  it("oldest-wins with flushTables: 'all' heals every replicated table", async () => {
    cluster = await TestCluster.start({ size: 2, subnet: '127.0.75', options: { timing: FAST, unsplit: { strategy: 'oldest-wins', flushTables: 'all' } }, imports: tables });
    const [a] = cluster.nodes;
    await divergeTwo(cluster);
    cluster.heal();
    await cluster.waitFor(() => a.events.some((e) => e.type === 'healed'), 15_000, 'healed');
    await cluster.waitFor(() => cluster!.digests()[0] === cluster!.digests()[1], 5000, 'equal digests');
    expect(table(cluster, 1, 'other').get('other-b')).toBeUndefined();
  });

  it.each([
    ['2|1', [[0, 1], [2]]],
    ['1|1|1', [[0], [1], [2]]],
  ])('merge heals a 3-node %s split: every write kept, all nodes identical', async (_label, islands) => {
    cluster = await TestCluster.start({ size: 3, subnet: '127.0.76', options: { timing: FAST, unsplit: { strategy: 'merge' } }, imports: tables });
    const c = cluster;
    c.split(...islands);
    await c.waitForSplit(islands);
    await Promise.all(c.nodes.map((n, i) => n.cache.put(['from', i], i)));
    await Promise.all(c.nodes.map((n, i) => n.cache.put('contested', `node ${i}`)));
    c.heal();
    await c.waitForMesh();
    await c.waitFor(() => new Set(c.digests()).size === 1, 20_000, 'identical digests on every node');
    for (const n of c.nodes) expect(n.cache.all(['from', ANY])).toEqual([[['from', 0], 0], [['from', 1], 1], [['from', 2], 2]]);
    expect(new Set(c.nodes.map((n) => n.cache.get('contested'))).size).toBe(1);
  });
});
