import { ClusterCache } from '../cache/cluster-cache';
import type { EntryState } from '../store/entry';
import { ANY } from '../store/key';
import { InMemoryNetwork } from '../transport/in-memory.transport';
import { waitFor } from '../transport/testing/wait-for';
import type { ClusterEvent } from '../cluster/cluster-event';
import { RestingState } from '../store/compact/resting-state';
import { STATES_PER_ACK } from './messages';
import { protocolNode, ProtocolNodeOptions, startedPerTest } from './testing/protocol-node';

const MIN = 60_000;

/** A state's fields: a copied value may be held at rest (store/compact/), whose fields are getters. */
const fieldsOf = (s: EntryState | undefined) => s && { ns: s.ns, key: s.key, value: s.value, expiresAt: s.expiresAt, version: s.version, seen: s.seen, origin: s.origin };

/** A protocol-level node with a `cache` view, a local `jobs` table and its events. */
function makeNode(network: InMemoryNetwork, name: string, seeds: string[] = [], options: ProtocolNodeOptions = {}) {
  const { node, table, engine, transport, store, address } = protocolNode(network, name, seeds, options);
  const local = store.addTable('jobs', 'local');
  const events: ClusterEvent[] = [];
  node.events$.subscribe((e) => events.push(e));
  const cache = new ClusterCache<unknown>(engine, table, 'cache', MIN);
  const jobs = new ClusterCache<unknown>(engine, local, 'cache', MIN);
  return { name, node, cache, jobs, table, events, transport, address, engine, store };
}

describe('ClusterNode (in-memory network)', () => {
  const start = startedPerTest<ReturnType<typeof makeNode>>();

  it('starts a cluster alone, then lets nodes join transitively from one seed', async () => {
    const net = new InMemoryNetwork();
    const a = await start(makeNode(net, 'a@10.0.0.1'));
    expect(a.node.ready).toBe(true);
    expect(a.events).toContainEqual({ type: 'joined', node: 'a@10.0.0.1', from: undefined, entries: 0 });
    await a.cache.put('before-b', 1);
    const b = await start(makeNode(net, 'b@10.0.0.2', [a.address()]));
    expect(b.node.ready).toBe(true);
    expect(b.cache.get('before-b')).toBe(1);
    // c only knows b; it must end up linked to a as well.
    const c = await start(makeNode(net, 'c@10.0.0.3', [b.address()]));
    await waitFor(() => a.node.peers().length === 2 && c.node.peers().length === 2);
    expect(c.node.peers().map((p) => p.name).sort()).toEqual(['a@10.0.0.1', 'b@10.0.0.2']);
    expect(c.cache.get('before-b')).toBe(1);
  });

  it('with minPeers, neither starts a cluster nor joins one until that many peers are linked', async () => {
    const net = new InMemoryNetwork();
    const a = await start(makeNode(net, 'a@10.0.0.1', [], { minPeers: 2, joinTimeout: 50 }));
    expect(a.node.ready).toBe(false); // no one answered: it does not start a cluster alone
    const b = await start(makeNode(net, 'b@10.0.0.2', [a.address()], { minPeers: 2, joinTimeout: 50 }));
    await waitFor(() => a.node.peers().length === 1 && b.node.peers().length === 1);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect([a.node.ready, b.node.ready]).toEqual([false, false]); // one peer each: not enough
    // A third node links: a (the oldest of three starting nodes) starts the cluster, the others copy from it.
    const c = await start(makeNode(net, 'c@10.0.0.3', [a.address()], { minPeers: 2, joinTimeout: 5_000 }));
    await waitFor(() => a.node.ready && b.node.ready && c.node.ready);
    expect(a.events).toContainEqual({ type: 'joined', node: 'a@10.0.0.1', from: undefined, entries: 0 });
    expect(b.events.find((e) => e.type === 'joined')).toMatchObject({ from: 'a@10.0.0.1' });
    // Once ready, a node stays ready when its peers go: the survivors must keep serving.
    await Promise.all([b.node.stop(), c.node.stop()]);
    await waitFor(() => a.node.peers().length === 0);
    expect(a.node.ready).toBe(true);
  });

  it('with minPeers, joins a running cluster as soon as enough peers are linked', async () => {
    const net = new InMemoryNetwork();
    const a = await start(makeNode(net, 'a@10.0.0.1'));
    const b = await start(makeNode(net, 'b@10.0.0.2', [a.address()]));
    await a.cache.put('before-c', 1);
    const c = await start(makeNode(net, 'c@10.0.0.3', [a.address()], { minPeers: 2 }));
    expect(c.node.ready).toBe(true);
    expect(c.node.peers()).toHaveLength(2);
    expect(c.cache.get('before-c')).toBe(1);
    expect(b.node.peers()).toHaveLength(2);
  });

  it('resolves a sync write once every connected node has applied it', async () => {
    const net = new InMemoryNetwork();
    const a = await start(makeNode(net, 'a@10.0.0.1'));
    const b = await start(makeNode(net, 'b@10.0.0.2', [a.address()]));
    const c = await start(makeNode(net, 'c@10.0.0.3', [a.address()]));
    await waitFor(() => a.node.peers().length === 2);
    await a.cache.putMany([['x', 1], [['user', 1, 's'], 2], ['obj', { nested: { deep: [1] } }]]);
    expect([b.cache.get('x'), c.cache.get('x'), c.cache.get(['user', 1, 's'])]).toEqual([1, 1, 2]);
    const replicated = b.cache.get('obj') as { nested: { deep: number[] } };
    expect(Object.isFrozen(replicated) && Object.isFrozen(replicated.nested.deep)).toBe(true);
    await c.cache.delete('x');
    expect([a.cache.get('x'), b.cache.get('x')]).toEqual([undefined, undefined]);
    expect(b.cache.all(['user', ANY, 's'])).toEqual([[['user', 1, 's'], 2]]);
  });

  it("holds a peer's write at rest (its value's bytes) until it is read there", async () => {
    const net = new InMemoryNetwork();
    const a = await start(makeNode(net, 'a@10.0.0.1'));
    const b = await start(makeNode(net, 'b@10.0.0.2', [a.address()]));
    await a.cache.put('session', { userId: 'ada', roles: ['admin'] });
    const atRest = b.table.current('cache', 'session');
    expect(atRest).toBeInstanceOf(RestingState);
    expect((atRest as RestingState).wasRead).toBe(false);
    expect(b.table.namespace('cache').scalars.size).toBe(0);
    // The first read decodes it; the node holds it as a live object from then on.
    const value = b.cache.get('session') as { roles: string[] };
    expect(value).toEqual({ userId: 'ada', roles: ['admin'] });
    expect(Object.isFrozen(value.roles)).toBe(true);
    expect(b.table.current('cache', 'session')).not.toBeInstanceOf(RestingState);
    expect(b.cache.get('session')).toBe(value);
    // Written on this node: live at once, and at rest on the other.
    await b.cache.put('other', 2);
    expect(b.table.current('cache', 'other')).not.toBeInstanceOf(RestingState);
    expect(a.table.current('cache', 'other')).toBeInstanceOf(RestingState);
  });

  it('acknowledges part of a long burst before it has applied all of it', async () => {
    const net = new InMemoryNetwork();
    const a = await start(makeNode(net, 'a@10.0.0.1'));
    const peer = makeNode(net, 'b@10.0.0.2', [a.address()]);
    const log: string[] = [];
    peer.engine.tap((_, states) => states.forEach(() => log.push('apply')));
    peer.transport.onLink((link) => {
      const sendAck = link.sendAck.bind(link);
      link.sendAck = (id) => (log.push('ack'), sendAck(id));
    });
    const b = await start(peer);
    log.length = 0;
    await Promise.all(Array.from({ length: 4 * STATES_PER_ACK }, (_, i) => a.cache.put(`k${i}`, i)));
    expect(b.cache.get(`k${4 * STATES_PER_ACK - 1}`)).toBe(4 * STATES_PER_ACK - 1);
    // One ack per STATES_PER_ACK writes, each sent as soon as they are applied.
    expect(log.filter((e) => e === 'ack')).toHaveLength(4);
    expect(log.indexOf('ack')).toBe(STATES_PER_ACK);
  });

  it('replicates async writes, counted in the backlog until the peer acknowledges them', async () => {
    const net = new InMemoryNetwork();
    const a = await start(makeNode(net, 'a@10.0.0.1', [], { writes: 'async' }));
    const b = await start(makeNode(net, 'b@10.0.0.2', [a.address()]));
    for (let i = 0; i < 100; i++) await a.cache.put(`k${i}`, i); // each resolves at once
    expect(a.node.backlog()).toEqual({ 'b@10.0.0.2': 100 });
    expect(b.cache.get('k99')).toBeUndefined();
    await waitFor(() => b.cache.get('k99') === 99 && a.node.backlog()['b@10.0.0.2'] === 0);
    expect(a.node.lag()['b@10.0.0.2']).toBeGreaterThanOrEqual(0);
  });

  it('never replicates a local table', async () => {
    const net = new InMemoryNetwork();
    const a = await start(makeNode(net, 'a@10.0.0.1'));
    const b = await start(makeNode(net, 'b@10.0.0.2', [a.address()]));
    await a.jobs.put('job', 'local only');
    await a.cache.put('marker', 1);
    expect(b.cache.get('marker')).toBe(1);
    expect(b.jobs.get('job')).toBeUndefined();
    expect(a.jobs.get('job')).toBe('local only');
  });

  it('copies a large table to a joining node without losing writes made during the copy', async () => {
    const net = new InMemoryNetwork();
    const a = await start(makeNode(net, 'a@10.0.0.1'));
    for (let i = 0; i < 20_000; i += 1000) {
      await a.cache.putMany(Array.from({ length: 1000 }, (_, j) => [`k${i + j}`, i + j] as const));
    }
    const b = makeNode(net, 'b@10.0.0.2', [a.address()]);
    const joining = start(b);
    const during: Promise<void>[] = [];
    for (let i = 0; i < 50; i++) during.push(a.cache.put(`during${i}`, i));
    await joining;
    await Promise.all(during);
    expect(b.node.ready).toBe(true);
    expect(b.table.size).toBe(a.table.size);
    expect(b.cache.get('k19999')).toBe(19999);
    for (let i = 0; i < 50; i++) expect(b.cache.get(`during${i}`)).toBe(i);
  });

  it('keeps overwrites and deletes made during a copy on a joining node, whichever chunk their keys are in', async () => {
    const net = new InMemoryNetwork();
    const a = await start(makeNode(net, 'a@10.0.0.1'));
    for (let i = 0; i < 10_000; i += 1000) {
      await a.cache.putMany(Array.from({ length: 1000 }, (_, j) => [`k${i + j}`, 'old'] as const));
    }
    const b = makeNode(net, 'b@10.0.0.2', [a.address()]);
    const joining = start(b);
    // Keys from the first and the last chunks: some copied before the write, some after.
    const touched = [0, 1, 2, 4998, 9997, 9998, 9999].map((i) => `k${i}`);
    const during = touched.map((key, i) => (i % 2 === 0 ? a.cache.put(key, 'new') : a.cache.delete(key)));
    await joining;
    await Promise.all(during);
    touched.forEach((key, i) => expect(b.cache.get(key)).toBe(i % 2 === 0 ? 'new' : undefined));
    for (const state of a.table.states()) expect(fieldsOf(b.table.current(state.ns, state.key))).toEqual(fieldsOf(state));
  });

  it('copies tombstones, array keys and frozen values to a joining node as the seed holds them', async () => {
    const net = new InMemoryNetwork();
    const a = await start(makeNode(net, 'a@10.0.0.1'));
    await a.cache.putMany([['gone', 1], [['user', 7, 's'], { roles: ['admin'] }], ['nothing', null]]);
    await a.cache.delete('gone');
    const b = await start(makeNode(net, 'b@10.0.0.2', [a.address()]));
    expect(b.table.size).toBe(a.table.size);
    for (const state of a.table.states()) expect(fieldsOf(b.table.current(state.ns, state.key))).toEqual(fieldsOf(state));
    const tomb = b.table.current('cache', 'gone')!;
    expect(tomb.value).toBeUndefined();
    expect(b.cache.get('gone')).toBeUndefined();
    expect(b.cache.get('nothing')).toBeNull();
    const session = b.cache.get(['user', 7, 's']) as { roles: string[] };
    expect(session).toEqual({ roles: ['admin'] });
    expect(Object.isFrozen(session) && Object.isFrozen(session.roles)).toBe(true);
    expect(Object.isFrozen(b.table.current('cache', ['user', 7, 's'])!.key)).toBe(true);
  });

  it('tells a graceful leave from a failure', async () => {
    const net = new InMemoryNetwork();
    const a = await start(makeNode(net, 'a@10.0.0.1'));
    const b = await start(makeNode(net, 'b@10.0.0.2', [a.address()]));
    const c = await start(makeNode(net, 'c@10.0.0.3', [a.address()]));
    await waitFor(() => a.node.peers().length === 2);
    await b.node.stop();
    c.transport.crash();
    await waitFor(() => a.events.filter((e) => e.type === 'nodedown').length === 2);
    expect(a.events).toContainEqual({ type: 'nodedown', node: 'b@10.0.0.2', reason: 'leave' });
    expect(a.events).toContainEqual({ type: 'nodedown', node: 'c@10.0.0.3', reason: 'connection-lost' });
    // Writes no longer wait for the departed nodes.
    await a.cache.put('after', 1);
  });

  it('reports inconsistent_database when a peer that stayed up comes back after a partition', async () => {
    const net = new InMemoryNetwork();
    const a = await start(makeNode(net, 'a@10.0.0.1'));
    const b = await start(makeNode(net, 'b@10.0.0.2', [a.address()]));
    net.partition(a.name, b.name);
    await waitFor(() => a.node.peers().length === 0 && b.node.peers().length === 0);
    await a.cache.put('split-a', 'a');
    await b.cache.put('split-b', 'b');
    net.heal();
    // b reconnects to its seed by itself.
    await waitFor(() => a.events.some((e) => e.type === 'inconsistent_database'));
    expect(a.events).toContainEqual({ type: 'inconsistent_database', context: 'running_partitioned_network', node: 'b@10.0.0.2' });
    // Without Unsplit, what diverged stays diverged (as with Mnesia); new writes replicate again.
    expect(a.cache.get('split-b')).toBeUndefined();
    await a.cache.put('after', 1);
    expect(b.cache.get('after')).toBe(1);
  });

  it('links again within about a second after a partition of any length (no long backoff)', async () => {
    // The nodes' timers run on a fake clock (messages still flow on immediates): 100 s pass in no time.
    jest.useFakeTimers({ doNotFake: ['setImmediate', 'nextTick', 'queueMicrotask'] });
    try {
      const net = new InMemoryNetwork();
      const a = await start(makeNode(net, 'a@10.0.0.1'));
      // c knows b only from a (no seed of its own for b): it must keep trying b as well.
      const b = await start(makeNode(net, 'b@10.0.0.2', [a.address()]));
      const c = await start(makeNode(net, 'c@10.0.0.3', [a.address()]));
      await jest.advanceTimersByTimeAsync(100);
      expect(c.node.peers()).toHaveLength(2);
      net.partition(a.name, b.name);
      net.partition(a.name, c.name);
      net.partition(b.name, c.name);
      // 100 s apart: every attempt to reach a peer fails meanwhile.
      for (let s = 0; s < 100; s++) await jest.advanceTimersByTimeAsync(1_000);
      expect([a, b, c].map((n) => n.node.peers().length)).toEqual([0, 0, 0]);
      net.heal();
      await jest.advanceTimersByTimeAsync(1_100);
      expect([a, b, c].map((n) => n.node.peers().length)).toEqual([2, 2, 2]);
    } finally {
      jest.useRealTimers();
    }
  });

  it('a restarted node gets the writes a peer made before the two were linked (they reached only its copy source)', async () => {
    const net = new InMemoryNetwork();
    const a = await start(makeNode(net, 'a@10.0.0.1'));
    const b = await start(makeNode(net, 'b@10.0.0.2', [a.address()]));
    const c1 = await start(makeNode(net, 'c@10.0.0.3', [a.address()]));
    await waitFor(() => c1.node.peers().length === 2);
    await b.cache.put('before', 1);
    await c1.node.stop();
    // c restarts and can reach a (it copies from a), but not b yet.
    net.partition('b@10.0.0.2', 'c@10.0.0.3');
    const c2 = await start(makeNode(net, 'c@10.0.0.3', [a.address()]));
    expect(c2.node.ready).toBe(true);
    await b.cache.put('while-apart', 2); // b is linked to a only: a applies it, after a's copy to c
    await b.cache.delete('before');
    expect(a.cache.get('while-apart')).toBe(2);
    expect(c2.cache.get('while-apart')).toBeUndefined();
    net.heal();
    await waitFor(() => c2.cache.get('while-apart') === 2 && c2.cache.get('before') === undefined, 3000, 'c to take b\'s writes');
    expect(c2.events.filter((e) => e.type === 'inconsistent_database')).toEqual([]);
  });

  it('merges the data of two clusters that had never met (autoInitialize: merge)', async () => {
    const net = new InMemoryNetwork();
    const a = await start(makeNode(net, 'a@10.0.0.1'));
    const b = await start(makeNode(net, 'b@10.0.0.2'));
    await a.cache.put('from-a', 'a');
    await b.cache.put('from-b', 'b');
    await a.node.connect(b.address());
    await waitFor(() => a.cache.get('from-b') !== undefined && b.cache.get('from-a') !== undefined);
    expect(a.events.some((e) => e.type === 'clusters_merged')).toBe(true);
    expect(a.events.some((e) => e.type === 'inconsistent_database')).toBe(false);
  });

  it('resets the younger lone node instead (autoInitialize: reset-younger, Pow)', async () => {
    const net = new InMemoryNetwork();
    const a = await start(makeNode(net, 'a@10.0.0.1', [], { autoInitialize: 'reset-younger', startedAt: 1000 }));
    const b = await start(makeNode(net, 'b@10.0.0.2', [], { autoInitialize: 'reset-younger', startedAt: 2000 }));
    await a.cache.put('from-a', 'a');
    await b.cache.put('from-b', 'b');
    await b.node.connect(a.address());
    await waitFor(() => b.cache.get('from-a') !== undefined);
    expect(b.cache.get('from-b')).toBeUndefined();
    expect(a.cache.get('from-b')).toBeUndefined();
  });

  it('disconnects a peer that does not acknowledge writes, and resyncs it when it is back', async () => {
    const net = new InMemoryNetwork();
    const a = await start(makeNode(net, 'a@10.0.0.1'));
    const b = await start(makeNode(net, 'b@10.0.0.2', [a.address()]));
    // b stops applying (and acknowledging) writes, as a stuck process would.
    const internals = b.node as unknown as { receive: (session: unknown, message: { t: string }) => void };
    const receive = internals.receive.bind(b.node);
    let stuck = true;
    internals.receive = (session, message) => {
      if (!(stuck && message.t === 'write')) receive(session, message);
    };
    await a.cache.put('missed', 1); // resolves once b is dropped (ackTimeout 1000 ms)
    expect(a.events).toContainEqual({ type: 'nodedown', node: 'b@10.0.0.2', reason: 'ack-timeout' });
    expect(b.cache.get('missed')).toBeUndefined();
    stuck = false;
    await waitFor(() => b.cache.get('missed') === 1, 5000, 'b to resync after relinking');
    expect(b.table.size).toBe(a.table.size);
  });

  describe('refuses a peer whose settings differ, on both sides, naming the setting and both values', () => {
    type Node = ReturnType<typeof makeNode>;
    /** a runs a cluster; b tries to join it, differing as `differ` makes them. */
    async function refusedJoin(differ: (a: Node, b: Node) => void, options: ProtocolNodeOptions = {}) {
      const net = new InMemoryNetwork();
      const a = await start(makeNode(net, 'a@10.0.0.1'));
      const b = makeNode(net, 'b@10.0.0.2', [a.address()], options);
      differ(a, b);
      void start(b); // waits up to joinTimeout: it never joins
      await waitFor(() => Object.keys(a.node.refused()).length > 0 && Object.keys(b.node.refused()).length > 0);
      expect(b.node.ready).toBe(false);
      expect(a.node.peers()).toEqual([]);
      expect(b.node.peers()).toEqual([]);
      await a.cache.put('not-for-b', 1);
      expect(b.cache.get('not-for-b')).toBeUndefined();
      return { a: a.node.refused()['b@10.0.0.2'], b: b.node.refused()['a@10.0.0.1'] };
    }

    it('a table replicated here and local there', async () => {
      const reasons = await refusedJoin((a, b) => {
        a.store.addTable('shared', 'replicated');
        b.store.addTable('shared', 'local');
      });
      expect(reasons.a).toBe(
        'refusing to share data with b@10.0.0.2: table "shared" is replicated on a@10.0.0.1 but local on b@10.0.0.2; give every node the same setting',
      );
      expect(reasons.b).toMatch(/table "shared" is local on b@10\.0\.0\.2 but replicated on a@10\.0\.0\.1/);
    });

    it('a replicated table the peer lacks', async () => {
      const reasons = await refusedJoin((_a, b) => b.store.addTable('flags', 'replicated'));
      expect(reasons.a).toMatch(/table "flags" is missing on a@10\.0\.0\.1 but replicated on b@10\.0\.0\.2/);
      expect(reasons.b).toMatch(/table "flags" is replicated on b@10\.0\.0\.2 but missing on a@10\.0\.0\.1/);
    });

    it('another unsplit strategy', async () => {
      const reasons = await refusedJoin(() => undefined, { unsplit: 'merge' });
      expect(reasons.a).toMatch(/unsplit\.strategy is off on a@10\.0\.0\.1 but merge on b@10\.0\.0\.2/);
      expect(reasons.b).toMatch(/unsplit\.strategy is merge on b@10\.0\.0\.2 but off on a@10\.0\.0\.1/);
    });

    it('but a local table of the same name on both, or on one side only, is fine', async () => {
      const net = new InMemoryNetwork();
      const a = await start(makeNode(net, 'a@10.0.0.1'));
      a.store.addTable('mine', 'local');
      const b = await start(makeNode(net, 'b@10.0.0.2', [a.address()]));
      expect(b.node.ready).toBe(true);
      expect(b.node.refused()).toEqual({});
    });
  });

  it('expires entries by TTL on every node with no replication traffic', async () => {
    const net = new InMemoryNetwork();
    const a = await start(makeNode(net, 'a@10.0.0.1'));
    const b = await start(makeNode(net, 'b@10.0.0.2', [a.address()]));
    await a.cache.put('short', 1, { ttl: 50 });
    expect(b.cache.get('short')).toBe(1);
    await b.node.stop();
    await waitFor(() => a.cache.get('short') === undefined, 2000);
    expect(b.cache.get('short')).toBeUndefined();
  });
});
