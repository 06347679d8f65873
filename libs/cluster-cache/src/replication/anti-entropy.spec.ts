import { ClusterCache } from '../cache/cluster-cache';
import { BucketDigests } from '../store/bucket-digests';
import type { EntryState } from '../store/entry';
import type { Table } from '../store/table';
import { InMemoryNetwork } from '../transport/in-memory.transport';
import { waitFor } from '../transport/testing/wait-for';
import { SLICE } from '../util/slices';
import { tableDigest } from './digest';
import type { ChunkHandler } from './peer-calls';
import { protocolNode, startedPerTest } from './testing/protocol-node';

const MIN = 60_000;

/** A protocol-level node on an in-memory network, counting the states it pulls and the calls it makes. */
function makeNode(network: InMemoryNetwork, name: string, seeds: string[] = []) {
  const { node, table, engine, info } = protocolNode(network, name, seeds);
  const counts = { pulled: 0, calls: [] as string[] };
  const pull = node.pull.bind(node);
  node.pull = (peer: string, tables: readonly string[], onChunk: ChunkHandler, keys?: Float64Array) =>
    pull(peer, tables, (t: Table, states: EntryState[]) => {
      counts.pulled += states.length;
      onChunk(t, states);
    }, keys);
  const call = node.call.bind(node);
  node.call = <T>(peer: string, kind: string, body: unknown, timeout?: number) => {
    counts.calls.push(kind);
    return call<T>(peer, kind, body, timeout);
  };
  const callInParts = node.callInParts.bind(node);
  node.callInParts = <T>(peer: string, kind: string, body: unknown, timeout?: number) => {
    counts.calls.push(kind);
    return callInParts<T>(peer, kind, body, timeout);
  };
  const cache = new ClusterCache<unknown>(engine, table, 'cache', 30 * MIN);
  const other = new ClusterCache<unknown>(engine, table, 'other', 30 * MIN);
  return { name, node, cache, other, table, counts, address: () => `${info.host}:${info.port}` };
}

describe('AntiEntropy (in-memory network)', () => {
  const start = startedPerTest<ReturnType<typeof makeNode>>();

  async function splitPair() {
    const net = new InMemoryNetwork();
    const a = await start(makeNode(net, 'a@10.0.0.1'));
    const b = await start(makeNode(net, 'b@10.0.0.2', [a.address()]));
    const base = Array.from({ length: 300 }, (_, i) => [`base-${i}`, i] as [string, number]);
    await a.cache.putMany(base);
    await a.other.putMany([[['user', 1, 's'], 'x'], [['user', 2, 's'], 'y']]);
    expect(b.table.size).toBe(a.table.size);
    net.partition(a.name, b.name);
    await waitFor(() => a.node.peers().length === 0 && b.node.peers().length === 0);
    return { net, a, b };
  }

  it('leaves both nodes with the winning state of every key, moving only winners', async () => {
    const { net, a, b } = await splitPair();
    await a.cache.putMany(Array.from({ length: 100 }, (_, i) => [`a-${i}`, i] as [string, number]));
    await b.cache.putMany(Array.from({ length: 100 }, (_, i) => [`b-${i}`, i] as [string, number]));
    await a.cache.putMany(Array.from({ length: 50 }, (_, i) => [`base-${i}`, 'a'] as [string, string]));
    await b.cache.putMany(Array.from({ length: 50 }, (_, i) => [`base-${50 + i}`, 'b'] as [string, string]));
    for (let i = 100; i < 110; i++) await a.cache.delete(`base-${i}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
    for (let i = 100; i < 110; i++) await b.cache.put(`base-${i}`, 'renewed on b, later'); // had not seen the delete
    await b.other.delete(['user', 2, 's']);
    await a.cache.put('both', 'a');
    await new Promise((resolve) => setTimeout(resolve, 5));
    await b.cache.put('both', 'b, later');

    net.heal();
    await waitFor(() => a.node.isLinked(b.name) && b.node.isLinked(a.name));
    const changed = await a.node.antiEntropy.sync(b.name);

    expect(tableDigest(a.table, Date.now())).toBe(tableDigest(b.table, Date.now()));
    for (const node of [a, b]) {
      expect(node.cache.get('a-5')).toBe(5);
      expect(node.cache.get('b-5')).toBe(5);
      expect(node.cache.get('base-0')).toBe('a');
      expect(node.cache.get('base-60')).toBe('b');
      expect(node.cache.get('base-105')).toBeUndefined(); // the delete wins
      expect(node.cache.get('both')).toBe('b, later');
      expect(node.other.get(['user', 2, 's'])).toBeUndefined();
      expect(node.other.get(['user', 1, 's'])).toBe('x');
    }
    // a: 100 new + 50 updated + 10 deletes; b: 100 new + 50 updated + 1 delete + "both". Nothing else moved.
    expect(changed).toBe(312);
    expect(a.counts.pulled + b.counts.pulled).toBe(312);
  });

  it('moves nothing when the tables are equal: one digest call', async () => {
    const { net, a, b } = await splitPair();
    net.heal();
    await waitFor(() => a.node.isLinked(b.name) && b.node.isLinked(a.name));
    await expect(a.node.antiEntropy.sync(b.name)).resolves.toBe(0);
    expect(a.counts.calls.filter((kind) => kind.startsWith('sync.'))).toEqual(['sync.digests']);
    expect(a.counts.pulled + b.counts.pulled).toBe(0);
  });

  it('never goes over a whole table in one event-loop turn, on either node: heartbeats keep flowing during a large heal', async () => {
    const net = new InMemoryNetwork();
    const a = await start(makeNode(net, 'a@10.0.0.1'));
    const b = await start(makeNode(net, 'b@10.0.0.2', [a.address()]));
    const n = SLICE + SLICE / 2; // more than a slice and its copy chunk: a whole-table pass shows
    for (let i = 0; i < n; i += 2000) await a.cache.putMany(Array.from({ length: 2000 }, (_, j) => [`k${i + j}`, i + j] as [string, number]));
    expect(b.table.size).toBe(n);
    net.partition(a.name, b.name);
    await waitFor(() => a.node.peers().length === 0 && b.node.peers().length === 0);
    await a.cache.putMany(Array.from({ length: 100 }, (_, i) => [`a-${i}`, i] as [string, number]));
    await b.cache.putMany(Array.from({ length: 100 }, (_, i) => [`k${i}`, 'b'] as [string, string]));
    net.heal();
    await waitFor(() => a.node.isLinked(b.name) && b.node.isLinked(a.name));

    // Per node and event-loop turn: states read from its table, and states its digests take in (made on first use).
    const work = new Map([a, b].map((node) => [node.table, { read: 0, digested: 0, most: 0 }]));
    for (const table of work.keys()) {
      const states = table.states.bind(table);
      table.states = function* () {
        for (const state of states()) {
          work.get(table)!.read++;
          yield state;
        }
      };
    }
    const digestsOf = (table: Table) => (table as unknown as { digests?: BucketDigests }).digests;
    const add = jest.spyOn(BucketDigests.prototype, 'add');
    let syncing = true;
    const spin = () => {
      for (const [table, w] of work) {
        w.digested = add.mock.contexts.filter((digests) => digests === digestsOf(table)).length;
        w.most = Math.max(w.most, w.read, w.digested);
        w.read = 0;
      }
      add.mockClear();
      if (syncing) setImmediate(spin);
    };
    setImmediate(spin);
    try {
      await expect(a.node.antiEntropy.sync(b.name)).resolves.toBe(200);
    } finally {
      syncing = false;
      add.mockRestore();
    }
    expect(tableDigest(a.table, Date.now())).toBe(tableDigest(b.table, Date.now()));
    // Each node built its digests (n states) and summarised its table (n states) on the way, a slice per turn at most.
    for (const node of [a, b]) {
      expect(work.get(node.table)!.most).toBeGreaterThanOrEqual(SLICE / 2);
      expect(work.get(node.table)!.most).toBeLessThanOrEqual(SLICE + 2_000);
    }
  }, 60_000);

  it('fails the sync, not the process, when the link drops right after the summaries call is sent', async () => {
    const { net, a, b } = await splitPair();
    await a.cache.put('diverged', 'on a');
    net.heal();
    await waitFor(() => a.node.isLinked(b.name) && b.node.isLinked(a.name));
    const callInParts = a.node.callInParts.bind(a.node);
    a.node.callInParts = <T>(peer: string, kind: string, body: unknown, timeout?: number) => {
      const reply = callInParts<T>(peer, kind, body, timeout);
      // The moment of the bug: the call is sent, its promise not awaited yet, and the link drops.
      if (kind === 'sync.summaries') setImmediate(() => a.node.disconnect(b.name));
      return reply;
    };
    // Jest fails the test on an unhandled rejection; the process would exit with it.
    await expect(a.node.antiEntropy.sync(b.name)).rejects.toThrow(/dropped|not linked/);
  });
});
