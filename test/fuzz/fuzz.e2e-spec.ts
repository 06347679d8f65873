import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Socket } from 'node:net';
import type { Socket as UdpSocket } from 'node:dgram';
import { GossipCodec } from '@app/cluster-cache/discovery/gossip-packet';
import { freeTcpPort, freeUdpPort } from '@app/cluster-cache/discovery/testing/free-port';
import { handshakeKeyFor } from '@app/cluster-cache/transport/handshake';
import { createNodeInfo } from '@app/cluster-cache/transport/node-info';
import { TRANSPORT_DEFAULTS } from '@app/cluster-cache/transport/transport.constants';
import { waitFor } from '../utils/wait-for';
import { authenticate, closedWithin, gossipSocket, type Outcome, openSocket, playPostAuth, playPreAuth, sendPacket } from './attacker';
import { diskDamage, fuzzSeed, gossipInput, memberGarbage, postAuthInput, preAuthInput, Random } from './inputs';
import { LiveNode, type NodeStats } from './live-node';

/**
 * Issue 14: a bounded fuzz of everything a node reads from outside — its
 * cluster port before and after authentication, its gossip port, its data
 * file — against live nodes in child processes (a crash, an abort or an
 * unhandled rejection ends the child, not Jest, and fails the spec). After
 * each part the node must be alive, hold no socket more than before, and
 * still serve: its peer stays linked, writes replicate both ways.
 *
 * Seeded: the seed is printed; `FUZZ_SEED=<seed>` replays a run's inputs
 * (each part draws from its own fork of the seed). `FUZZ_SCALE=<n>` makes
 * every part's time budget n times longer.
 */

const SEED = fuzzSeed();
const SCALE = Number(process.env.FUZZ_SCALE ?? 1);
/** Each part's time budget for drawing inputs, in ms (the whole suite stays under a minute). */
const BUDGET = { preAuth: 6_000 * SCALE, postAuth: 6_000 * SCALE, gossip: 3_000 * SCALE, disk: 11_000 * SCALE };

const COOKIE = 'fuzz-cookie-0123456789abcdef';
const CLUSTER = 'nest-cluster-cache';
const A = '127.0.8.1';
const B = '127.0.8.2';
const C = '127.0.8.3';
const GROUP = '233.252.1.32';
/** The dead-peer timeout of the live nodes: a link the fuzzer leaves silent is dropped after it. */
const DEAD_PEER_TIMEOUT = 2_000;
/** Fuzzer source addresses before authentication (well under the per-address cap in flight). */
const sourceAddress = (rng: Random) => `127.0.9.${rng.between(1, 40)}`;

jest.setTimeout(60_000 * SCALE);

/** Every failure message says how to replay the run. */
function replay(message: string): string {
  return `${message}\n(replay: FUZZ_SEED=${SEED} npx jest -c test/jest-e2e.json test/fuzz --runInBand)`;
}

describe(`fuzzing a live node (seed ${SEED})`, () => {
  const dirs: string[] = [];
  let a: LiveNode;
  let b: LiveNode;
  let gossipPort: number;
  let baseline: NodeStats;
  const started = Date.now();

  const tempDir = (label: string) => {
    const dir = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), `cc-fuzz-${label}-`)));
    dirs.push(dir);
    return dir;
  };

  beforeAll(async () => {
    process.stdout.write(`fuzz seed ${SEED} (replay with FUZZ_SEED=${SEED})\n`);
    gossipPort = await freeUdpPort();
    a = new LiveNode('node a', {
      NODE_NAME: `a@${A}`,
      COOKIE,
      DATA_DIR: tempDir('a'),
      GOSSIP_PORT: String(gossipPort),
      DEAD_PEER_TIMEOUT: String(DEAD_PEER_TIMEOUT),
    });
    await a.ready();
    b = new LiveNode('node b', { NODE_NAME: `b@${B}`, COOKIE, SEEDS: a.address, DEAD_PEER_TIMEOUT: String(DEAD_PEER_TIMEOUT) });
    await b.ready();
    baseline = await waitFor(async () => {
      const stats = await a.stats();
      return stats.links.join() === `b@${B}` && stats.cluster.peers.join() === `b@${B}` ? stats : undefined;
    }, 10_000, 'b linked to a');
  });

  afterAll(async () => {
    a?.kill();
    b?.kill();
    await Promise.all([a?.exited, b?.exited]);
    for (const dir of dirs) fs.rmSync(dir, { recursive: true, force: true });
    process.stdout.write(`fuzz suite (seed ${SEED}) took ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
  });

  /** Node a is alive, and its witness link to b never dropped. */
  function expectAlive(): void {
    if (!a.alive) throw new Error(replay(a.describeExit()));
    if (!b.alive) throw new Error(replay(b.describeExit()));
    expect(a.events.filter((e) => e.type === 'nodedown' && e.node === `b@${B}`)).toEqual([]);
    expect(b.events.filter((e) => e.type === 'nodedown' && e.node === `a@${A}`)).toEqual([]);
  }

  /**
   * Waits until node a holds what it held before the part: no connection
   * authenticating, one link (to b), as many sockets and TCP handles.
   */
  async function expectNoLeak(): Promise<NodeStats> {
    let last: NodeStats | undefined;
    try {
      return await waitFor(async () => {
        last = await a.stats();
        const settled =
          last.cluster.connections!.unauthenticated === 0 &&
          last.links.join() === `b@${B}` &&
          last.sockets === baseline.sockets &&
          (last.resources.TCPSocketWrap ?? 0) === (baseline.resources.TCPSocketWrap ?? 0) &&
          (last.resources.TCPServerWrap ?? 0) === (baseline.resources.TCPServerWrap ?? 0);
        return settled ? last : undefined;
      }, 10_000, 'node a back to its sockets before the part');
    } catch (error) {
      const now = { unauthenticated: last?.cluster.connections?.unauthenticated, links: last?.links, sockets: last?.sockets, resources: last?.resources };
      const before = { sockets: baseline.sockets, resources: baseline.resources };
      throw new Error(replay(`${String(error)}\nnow: ${JSON.stringify(now)}\nbefore: ${JSON.stringify(before)}`));
    }
  }

  /** A write on either node is read on the other. */
  async function expectServing(label: string): Promise<void> {
    const value = { label, at: Date.now() };
    await a.call('put', { key: `${label}-from-a`, value });
    await waitFor(async () => JSON.stringify(await b.call('get', { key: `${label}-from-a` })) === JSON.stringify(value), 5_000, `${label} from a on b`);
    await b.call('put', { key: `${label}-from-b`, value });
    await waitFor(async () => JSON.stringify(await a.call('get', { key: `${label}-from-b` })) === JSON.stringify(value), 5_000, `${label} from b on a`);
  }

  /**
   * Runs `task` in `width` slots at once, each slot again and again until
   * `budget` ms have passed. Each slot draws from its own fork of `rng`, so a
   * slot's inputs do not depend on how the others' timing interleaves.
   */
  async function pool(rng: Random, width: number, budget: number, task: (rng: Random, slot: number) => Promise<void>): Promise<void> {
    const end = Date.now() + budget;
    await Promise.all(
      Array.from({ length: width }, async (_, slot) => {
        const own = rng.fork(`slot ${slot}`);
        while (Date.now() < end) await task(own, slot);
      }),
    );
  }

  it('the cluster port before authentication: random bytes, bad headers, mutated handshakes, half-open and slow connections', async () => {
    const target = { host: A, port: Number(a.address.split(':')[1]) };
    // The node must close every connection itself, within its handshake timeout and some slack.
    const deadline = TRANSPORT_DEFAULTS.handshakeTimeout + 2_000;
    const played: { kind: string; from: string; outcome: Outcome }[] = [];
    const before = (await a.stats()).cluster.connections!;
    await pool(new Random(SEED).fork('pre-auth'), 12, BUDGET.preAuth, async (rng) => {
      const from = sourceAddress(rng);
      const input = preAuthInput(rng, { cluster: CLUSTER, name: `fuzz@${from}`, host: from });
      played.push({ kind: input.kind, from, outcome: await playPreAuth(input, target, from, deadline) });
    });

    expectAlive();
    const open = played.filter((p) => !p.outcome.closed);
    expect(open.map((p) => replay(`the node left a connection open: ${p.kind} from ${p.from}`))).toEqual([]);
    // Without the cookie nothing gets past the challenge.
    const welcomed = played.filter((p) => p.outcome.replies.some((r) => (r as { type?: string }).type === 'welcome'));
    expect(welcomed.map((p) => p.kind)).toEqual([]);
    const after = await expectNoLeak();
    const refused = after.cluster.connections!.refused.handshake - before.refused.handshake;
    expect(refused).toBeGreaterThan(played.length / 2);
    await expectServing('pre-auth');
    const kinds = new Map<string, number>();
    for (const p of played) kinds.set(p.kind.replace(/ \d+$/, ''), (kinds.get(p.kind.replace(/ \d+$/, '')) ?? 0) + 1);
    process.stdout.write(`pre-auth: ${played.length} connections (${[...kinds].map(([k, n]) => `${k} ${n}`).join(', ')}), ${refused} refused at the handshake\n`);
  });

  it('the cluster port before authentication: connections within and past the caps (128 in all, 16 per address)', async () => {
    const target = { host: A, port: Number(a.address.split(':')[1]) };
    const before = (await a.stats()).cluster.connections!;
    const sockets: Socket[] = [];
    /** Opens a connection from each of `sources` at once (the node accepts each, then closes those over a cap). */
    const openAll = async (sources: string[]): Promise<Socket[]> => {
      const results = await Promise.allSettled(sources.map((from) => openSocket(target.host, target.port, from)));
      const opened = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
      sockets.push(...opened);
      expect(results.filter((r) => r.status === 'rejected')).toEqual([]);
      return opened;
    };
    try {
      // 8 addresses × 20 silent connections: 16 of each are admitted (128 in all, the total cap), 4 of each refused.
      const held = await openAll(Array.from({ length: 8 }, (_, i) => Array<string>(20).fill(`127.0.10.${i + 1}`)).flat());
      await waitFor(async () => (await a.stats()).cluster.connections!.unauthenticated === 128, 5_000, '128 connections authenticating');
      await waitFor(() => held.filter((socket) => socket.closed).length === 32, 5_000, 'the 32 over the per-address cap closed');
      // The total is full: 10 from a 9th address are refused too.
      const extra = await openAll(Array<string>(10).fill('127.0.10.9'));
      expect(await Promise.all(extra.map((socket) => closedWithin(socket, 2_000)))).toEqual(Array(10).fill(true));
      const stats = (await a.stats()).cluster.connections!;
      const addressLimit = stats.refused.addressLimit - before.refused.addressLimit;
      const limit = stats.refused.limit - before.refused.limit;
      // Once all 128 places are taken, the total is what refuses (it is checked first), whatever the address.
      expect({ unauthenticated: stats.unauthenticated, refused: addressLimit + limit, open: held.filter((socket) => !socket.closed).length }).toEqual({
        unauthenticated: 128,
        refused: 42,
        open: 128,
      });
      expect(addressLimit).toBeGreaterThan(0);
      expect(limit).toBeGreaterThanOrEqual(10);
      expectAlive();
    } finally {
      // Half of them go away at once, the other half half-close: both free their places.
      for (const [i, socket] of sockets.entries()) {
        if (i % 2 === 0) socket.destroy();
        else socket.end();
      }
    }
    await expectNoLeak();
    await expectServing('caps');
  });

  it('after authentication (the fuzzer holds the cookie): mutated, replayed, truncated and forged sealed frames close that link only', async () => {
    const target = { host: A, port: Number(a.address.split(':')[1]) };
    const key = await handshakeKeyFor(COOKIE, CLUSTER);
    const before = (await a.stats()).cluster.connections!;
    const played: { kind: string; outcome: Outcome; forged: boolean; mustClose: boolean }[] = [];
    await pool(new Random(SEED).fork('post-auth'), 4, BUDGET.postAuth, async (rng, slot) => {
      const member = await authenticate(target, '127.0.9.200', createNodeInfo(`fuzz-member-${slot}@127.0.0.1`, '127.0.0.1', 1), CLUSTER, key);
      const input = postAuthInput(rng, member.seal, () => memberGarbage(rng, { tables: ['sessions'] }));
      // A link left with part of a frame is dropped at the dead-peer timeout; garbage a member sends may be taken.
      const outcome = await playPostAuth(member, input, input.mustClose ? DEAD_PEER_TIMEOUT + 2_500 : 300);
      played.push({ kind: input.kind, outcome, forged: input.forged, mustClose: input.mustClose });
    });

    expectAlive();
    const open = played.filter((p) => p.mustClose && !p.outcome.closed);
    expect(open.map((p) => replay(`the node kept a link open after: ${p.kind}`))).toEqual([]);
    const after = await expectNoLeak();
    const forged = after.cluster.connections!.forgedFrames - before.forgedFrames;
    expect(forged).toBeGreaterThanOrEqual(played.filter((p) => p.forged).length);
    expect(forged).toBeLessThanOrEqual(played.length);
    await expectServing('post-auth');
    process.stdout.write(`post-auth: ${played.length} links, ${forged} closed for forged frames, ${played.filter((p) => !p.mustClose).length} with a member's garbage\n`);
  });

  it('the gossip port: random, mutated, cut, replayed and odd authentic heartbeats', async () => {
    const codec = await GossipCodec.forCookie(COOKIE, CLUSTER);
    const captured: Buffer[] = [];
    const listener: UdpSocket = await gossipSocket(gossipPort, GROUP, (packet) => {
      const decoded = codec.decode(packet);
      if (decoded.ok && decoded.heartbeat.node === `a@${A}` && captured.length < 20) captured.push(packet);
    });
    try {
      await waitFor(() => captured.length >= 2, 5_000, "node a's heartbeats");
      const closedPort = await freeTcpPort();
      const before = (await a.stats()).gossip!;
      const rng = new Random(SEED).fork('gossip');
      let sent = 0;
      let acceptable = 0;
      const end = Date.now() + BUDGET.gossip;
      while (Date.now() < end) {
        for (let burst = 0; burst < 20; burst++) {
          const input = gossipInput(rng, codec, CLUSTER, captured, closedPort);
          await sendPacket(listener, input.packet, gossipPort, GROUP);
          sent++;
          if (input.acceptable) acceptable++;
        }
        await new Promise((resolve) => setTimeout(resolve, 2));
      }
      // Counted as they arrive, until no more do (UDP may drop some on the way when the node falls behind).
      let last = -1;
      const after = await waitFor(async () => {
        await new Promise((resolve) => setTimeout(resolve, 250));
        const stats = (await a.stats()).gossip!;
        const settled = stats.received === last || stats.received - before.received >= sent;
        last = stats.received;
        return settled ? stats : undefined;
      }, 10_000, 'the packets to arrive');
      expect(after.received - before.received).toBeGreaterThan(sent / 2);
      expectAlive();
      const delta = (field: keyof typeof after) => after[field] - before[field];
      expect(delta('accepted')).toBeLessThanOrEqual(acceptable);
      expect(delta('sent')).toBeGreaterThan(0); // it still sends its own
      await expectNoLeak();
      await expectServing('gossip');
      process.stdout.write(
        `gossip: ${sent} packets sent, ${delta('received')} received: ${delta('accepted')} accepted (of ${acceptable} authentic and fresh), ` +
          `${delta('malformed')} malformed, ${delta('unauthenticated')} unauthenticated, ${delta('foreign')} foreign, ${delta('replayed')} replayed, ${delta('own')} own\n`,
      );
    } finally {
      await new Promise<void>((resolve) => listener.close(() => resolve()));
    }
  });

  it('the data file: a node starts on a damaged copy of a real cache.mdb, or refuses it naming the file; it never loads a record that was not written', async () => {
    const disk = new LiveNode('disk rounds', { MODE: 'disk' });
    try {
      await disk.ready();
      const source = path.join(tempDir('disk'), 'source');
      const written = new Set(await disk.call<string[]>('write', { dir: source, count: 300 }));
      const original = fs.readFileSync(path.join(source, 'cache.mdb'));
      const pageSize = original.readUInt32LE(48);
      const valueOffsets: number[] = [];
      for (let at = original.indexOf('FUZZ-'); at !== -1; at = original.indexOf('FUZZ-', at + 1)) valueOffsets.push(at);
      const rng = new Random(SEED).fork('disk');
      const rounds: { started: boolean; damaged: number; reason?: string; writeFailed?: boolean }[] = [];
      const root = path.join(tempDir('disk'), 'rounds');
      const end = Date.now() + BUDGET.disk;
      while (Date.now() < end) {
        const damage = diskDamage(rng, original.length, pageSize, valueOffsets);
        const dir = path.join(root, `round-${rounds.length}`);
        fs.mkdirSync(dir, { recursive: true });
        const file = path.join(dir, 'cache.mdb');
        fs.writeFileSync(file, damage.reduce<Buffer>((data, d) => d.apply(data), Buffer.from(original)));
        const what = `round ${rounds.length}: ${damage.map((d) => d.describe).join(', ')}`;
        type Failure = { name: string; message: string; file?: string };
        let result: { started: boolean; states?: string[]; disk?: { damaged: number }; error?: Failure; wrote?: true | { error: Failure } };
        try {
          result = await disk.call('open', { dir });
        } catch (error) {
          throw new Error(replay(`the node crashed on ${what}: ${String(error)}`));
        }
        if (!result.started) {
          expect({ what, name: result.error!.name }).toEqual({ what, name: 'PersistenceError' });
          expect({ what, message: result.error!.message }).toEqual({ what, message: expect.stringContaining(file) });
          rounds.push({ started: false, damaged: 0, reason: result.error!.message.slice(0, 120) });
        } else {
          const foreign = result.states!.filter((state) => !written.has(state));
          expect({ what, foreign }).toEqual({ what, foreign: [] });
          // A write after the start lands, or fails with a PersistenceError naming the file.
          if (result.wrote !== true) {
            expect({ what, name: result.wrote!.error.name }).toEqual({ what, name: 'PersistenceError' });
            expect({ what, message: result.wrote!.error.message }).toEqual({ what, message: expect.stringContaining(file) });
          }
          rounds.push({ started: true, damaged: result.disk!.damaged, writeFailed: result.wrote !== true });
        }
        fs.rmSync(dir, { recursive: true, force: true });
      }
      const startedRounds = rounds.filter((r) => r.started);
      process.stdout.write(
        `disk: ${rounds.length} rounds: ${startedRounds.length} started (${startedRounds.filter((r) => r.damaged > 0).length} reporting damaged records, ` +
          `${startedRounds.filter((r) => r.writeFailed).length} refusing the write after the start), ` +
          `${rounds.length - startedRounds.length} refused with a PersistenceError naming the file\n`,
      );
      expect(disk.alive).toBe(true);
    } finally {
      await disk.stop();
    }
  });

  it('afterwards: a new peer links and replicates both ways, and the nodes shut down cleanly', async () => {
    const c = new LiveNode('node c', { NODE_NAME: `c@${C}`, COOKIE, GOSSIP_PORT: String(gossipPort), DEAD_PEER_TIMEOUT: String(DEAD_PEER_TIMEOUT) });
    try {
      await c.ready();
      // Found through gossip (a's discovery still works), linked to a and to b.
      await waitFor(async () => (await c.stats()).cluster.peers.sort().join() === `a@${A},b@${B}`, 10_000, 'c linked to a and b');
      const value = { from: 'c' };
      await c.call('put', { key: 'after-fuzz', value });
      expect(await a.call('get', { key: 'after-fuzz' })).toEqual(value);
      await a.call('put', { key: 'after-fuzz-a', value: { from: 'a' } });
      expect(await c.call('get', { key: 'after-fuzz-a' })).toEqual({ from: 'a' });
      expectAlive();
      expect(await c.stop()).toEqual({ code: 0, signal: null });
      expect(await b.stop()).toEqual({ code: 0, signal: null });
      expect(await a.stop()).toEqual({ code: 0, signal: null });
    } finally {
      c.kill();
    }
  });
});
