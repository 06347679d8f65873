import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InvalidArgumentError } from '@app/cluster-cache';
import { readProblems, REFUSED_CASES, VALUE_CASES } from '@app/cluster-cache/values/testing/value-set';
import { startNode, TestNode } from '../utils/cluster-app';
import { waitFor } from '../utils/wait-for';

/**
 * Issue 14 findings 5 and 6 over real TCP (nodes booted in this process on
 * 127.0.0.x): every allowed value reads back exactly as the writer holds it —
 * on the peer, on a node that joins later, and from the disk copy after a
 * restart — and a value that can never replicate is refused at the put,
 * naming the key, with the cluster left alone.
 */
describe('values between nodes over TCP, in a join copy and in the disk copy', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ncc-values-'));
  const nodes: TestNode[] = [];
  let a: TestNode;
  let b: TestNode;
  const key = (name: string) => ['value', name];
  /**
   * Ends the callback: the system clock keeps one reading per callback, promise continuations included,
   * so a write after seconds of checks in one chain would date its batch seconds back (and time out its ack).
   */
  const nextTurn = () => new Promise((resolve) => setImmediate(resolve));

  const start = async (name: string, extraNodes: string[] = [], persist = false) => {
    // The nodes share this process (and Jest's slower sandbox): a peer decoding a large value holds up the writer too.
    const timing = { ackTimeout: 60_000 };
    const node = await startNode({ node: { name, port: 0 }, extraNodes, timing, persistence: persist ? { dir: join(dir, name) } : undefined });
    nodes.push(node);
    return node;
  };

  const check = async (node: TestNode, prefix = 'value') => {
    const problems: string[] = [];
    for (const c of VALUE_CASES) {
      for (const problem of await readProblems(() => node.cache.get([prefix, c.name]), (c.expected ?? c.input)())) problems.push(`${c.name}: ${problem}`);
    }
    expect(problems).toEqual([]);
  };

  beforeAll(async () => {
    a = await start('a@127.0.0.101', [], true);
    b = await start('b@127.0.0.102', [a.address]);
    await waitFor(() => a.cluster.nodes().length === 1 && b.cluster.ready, 10_000, 'a and b linked');
  }, 30_000);

  afterAll(async () => {
    await Promise.all(nodes.map((n) => n.close().catch(() => undefined)));
    rmSync(dir, { recursive: true, force: true });
  });

  it('gives back every allowed value on the peer exactly as the writer holds it, frozen, binaries and Dates as copies', async () => {
    for (const c of VALUE_CASES) {
      const input = c.input();
      await nextTurn();
      await a.cache.put(key(c.name), input as never);
    }
    // One turn, one batch: the same values again through putMany on the other node.
    const batch = VALUE_CASES.map((c): [string[], never] => [['again', c.name], c.input() as never]);
    await nextTurn();
    await b.cache.putMany(batch);
    await check(a);
    await check(b);
    await check(a, 'again');
    expect(a.cache.all(['value', 'a Uint8Array'])).toEqual([[key('a Uint8Array'), new Uint8Array([0, 1, 2, 254, 255])]]);
  }, 60_000);

  it('refuses at the put, naming the key, what can never replicate; nothing is sent and the link stays', async () => {
    for (const c of REFUSED_CASES) {
      const started = Date.now();
      const put = a.cache.put(['refused', c.name], c.input() as never);
      await expect(put).rejects.toBeInstanceOf(InvalidArgumentError);
      await expect(put).rejects.toThrow(`the value for key ["refused","${c.name}"]`);
      await expect(put).rejects.toThrow(c.message);
      expect(Date.now() - started).toBeLessThan(5_000);
      expect(b.cache.get(['refused', c.name])).toBeUndefined();
    }
    await nextTurn();
    await a.cache.put('after', 1);
    expect(b.cache.get('after')).toBe(1);
    expect([...a.events, ...b.events].filter((e) => e.type === 'nodedown' || e.type === 'inconsistent_database')).toEqual([]);
    expect([...a.logs(), ...b.logs()].filter((l) => /^(error|warn)/.test(l))).toEqual([]);
  }, 60_000);

  it('gives back every allowed value on a node that joins later (the join copy)', async () => {
    const c = await start('c@127.0.0.103', [a.address]);
    await waitFor(() => c.cluster.ready, 30_000, 'c joined');
    await check(c);
    expect([...a.logs(), ...b.logs(), ...c.logs()].filter((l) => /^(error|warn)/.test(l))).toEqual([]);
  }, 60_000);

  it('gives back every value from the disk copy after a restart', async () => {
    await a.close();
    nodes.splice(nodes.indexOf(a), 1);
    // Alone: what it holds comes from its disk copy, not from a peer.
    a = await start('a@127.0.0.101', [], true);
    await check(a);
  }, 60_000);
});
