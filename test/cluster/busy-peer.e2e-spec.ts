import type { ClusterEvent } from '@app/cluster-cache';
import type { LoadReport } from '../fixtures/session-app/event-loop-load';
import { NodeProcess, spawnNode, stopNode } from '../utils/node-process';
import { waitFor } from '../utils/wait-for';

const COOKIE = 'busy-peer-cookie-0123456789';
/** a and b stall their event loop (GC-like pauses) at periods that sweep every phase of the 250 ms heartbeat; c writes bursts. */
const PAUSE_MS = 200;
interface Spec {
  name: string;
  port: string;
  env: Record<string, string>;
}
const A: Spec = { name: 'a@127.0.0.121', port: '24221', env: { BUSY_PAUSE_MS: String(PAUSE_MS), BUSY_PERIOD_MS: '700' } };
const B: Spec = { name: 'b@127.0.0.122', port: '24222', env: { BUSY_PAUSE_MS: String(PAUSE_MS), BUSY_PERIOD_MS: '1100' } };
const C: Spec = { name: 'c@127.0.0.123', port: '24223', env: {} };
/** How long the workload runs while the nodes stall and burst. */
const WORKLOAD_MS = 12_000;
/** Writes per burst on c (sync: each burst answers once a and b applied all of it). */
const BURST = 20_000;
/** Sign-ins in flight at any time, spread over the three nodes. */
const CONCURRENCY = 6;

const address = (n: Spec) => `${n.name.split('@')[1]}:${n.port}`;

async function post<T>(node: NodeProcess, path: string, body: unknown): Promise<{ status: number; body: T }> {
  const response = await fetch(`${node.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return { status: response.status, body: (await response.json()) as T };
}

/** `xs` cut into lists of at most `n` (request bodies stay under the 100 kB JSON limit). */
const chunks = <T>(xs: T[], n: number): T[][] => Array.from({ length: Math.ceil(xs.length / n) }, (_, i) => xs.slice(i * n, (i + 1) * n));

/** Runs `body`; if it fails, prints what each node printed last. */
async function showingOutput(nodes: NodeProcess[], body: () => Promise<void>): Promise<void> {
  try {
    await body();
  } catch (error) {
    for (const n of nodes) console.log(`--- ${n.name}, last lines ---\n${n.output.slice(-25).join('\n')}`);
    throw error;
  }
}

const failureDetection = (e: ClusterEvent) => e.type === 'nodedown' || e.type === 'inconsistent_database';
const ms = (x: number) => `${x.toFixed(0)} ms`;

/**
 * Issue 13: the default failure detection (heartbeatInterval 250 ms,
 * deadPeerTimeout 1 s) takes no busy peer for a dead one. Three real node
 * processes on default timing: a and b block their event loop for 200 ms
 * every 700 ms and 1.1 s (a GC-like pause), c writes bursts of 20k sync
 * writes back to back (heavy replication work on every node), and sign-ins
 * go to all three meanwhile.
 */
describe('a busy peer is not a dead one (default timing, real processes)', () => {
  const running: NodeProcess[] = [];

  afterAll(async () => {
    await Promise.all(running.map((n) => stopNode(n, 'SIGKILL')));
  });

  it('no nodedown or netsplit while nodes pause 200 ms and replicate bursts; every acknowledged write is on every node', () =>
    showingOutput(running, async () => {
      const start = async (n: Spec, seeds: Spec[]) => {
        const node = await spawnNode(n.name, { CLUSTER_PORT: n.port, CLUSTER_COOKIE: COOKIE, CLUSTER_SEEDS: seeds.map(address).join(','), ...n.env });
        running.push(node);
        return node;
      };
      const a = await start(A, [B, C]);
      const [b, c] = await Promise.all([start(B, [A, C]), start(C, [A, B])]);
      const nodes = [a, b, c];
      await waitFor(() => nodes.every((n) => new Set(n.events.filter((e) => e.type === 'nodeup').map((e) => e.node)).size === 2), 20_000, 'a full mesh');
      await waitFor(() => nodes.every((n) => n.events.some((e) => e.type === 'joined')), 20_000, 'every node to hold the data');

      // The workload: sign-ins on every node, bursts on c, for WORKLOAD_MS.
      const until = Date.now() + WORKLOAD_MS;
      const acknowledged: string[] = [];
      const failed: string[] = [];
      let next = 0;
      const signIns = async () => {
        while (Date.now() < until) {
          const node = nodes[next++ % nodes.length];
          const { status, body } = await post<{ token: string }>(node, '/session', { user: `user${next}` });
          if (status === 201) acknowledged.push(body.token);
          else failed.push(`sign-in on ${node.name}: ${status} ${JSON.stringify(body)}`);
        }
      };
      const bursts: Array<{ tag: string; n: number; ms: number }> = [];
      const burstOnC = async () => {
        while (Date.now() < until) {
          const tag = `burst${bursts.length}`;
          const { status, body } = await post<{ acked: number; ms: number }>(c, '/load/burst', { tag, n: BURST });
          if (status !== 200 || body.acked !== BURST) failed.push(`burst ${tag} on c: ${status} ${JSON.stringify(body)}`);
          else bursts.push({ tag, n: BURST, ms: body.ms });
        }
      };
      await Promise.all([...Array.from({ length: CONCURRENCY }, signIns), burstOnC()]);

      // What each node went through, printed so the reader sees the pauses happened.
      const reports = await Promise.all(nodes.map(async (n) => (await (await fetch(`${n.url}/load`)).json()) as LoadReport & { node: string }));
      const linkFailures = nodes.flatMap((n) => n.output.filter((line) => /Link to .* failed/.test(line)));
      console.log(
        [
          `busy peers, default timing, ${WORKLOAD_MS / 1000} s of load:`,
          ...reports.map(
            (r) =>
              `  ${r.node}: ${r.pauses.count} pauses of ${ms(r.pauses.minMs)}–${ms(r.pauses.maxMs)} (${ms(r.pauses.totalMs)} blocked in ${r.seconds.toFixed(1)} s); ` +
              `longest event-loop stall ${ms(r.loopMaxMs)}, p99 ${ms(r.loopP99Ms)}`,
          ),
          `  c: ${bursts.length} bursts of ${BURST} sync writes, each acknowledged by a and b in ${ms(Math.min(...bursts.map((x) => x.ms)))}–${ms(Math.max(...bursts.map((x) => x.ms)))}`,
          `  ${acknowledged.length} sign-ins acknowledged, ${failed.length} failed`,
          `  nodedown / inconsistent_database: ${nodes.map((n) => `${n.name} ${n.events.filter(failureDetection).length}`).join(', ')}`,
          ...linkFailures.map((line) => `  ${line}`),
        ].join('\n'),
      );

      // The load happened: the pausing nodes stalled for 200 ms again and again, c replicated whole bursts.
      for (const r of reports.slice(0, 2)) {
        expect(r.pauses.count).toBeGreaterThanOrEqual(8);
        expect(r.pauses.minMs).toBeGreaterThanOrEqual(PAUSE_MS);
        expect(r.loopMaxMs).toBeGreaterThanOrEqual(PAUSE_MS);
      }
      expect(bursts.length).toBeGreaterThanOrEqual(1);
      expect(acknowledged.length).toBeGreaterThan(100);

      // No node was taken for dead, no split was seen, no write failed.
      expect(nodes.map((n) => ({ node: n.name, events: n.events.filter(failureDetection) }))).toEqual(nodes.map((n) => ({ node: n.name, events: [] })));
      expect(linkFailures).toEqual([]);
      expect(failed).toEqual([]);

      // Every acknowledged write (sync: applied on every peer before it was acknowledged) is on every node.
      for (const node of nodes) {
        const missing = { tokens: [] as string[], keys: [] as string[] };
        for (const request of [{ bursts }, ...chunks(acknowledged, 1000).map((tokens) => ({ tokens }))]) {
          const { body } = await post<typeof missing>(node, '/load/missing', request);
          missing.tokens.push(...body.tokens);
          missing.keys.push(...body.keys);
        }
        expect({ node: node.name, ...missing }).toEqual({ node: node.name, tokens: [], keys: [] });
      }
    }), 60_000);
});
