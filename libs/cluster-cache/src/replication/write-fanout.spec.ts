import { ManualClock } from '../store/clock';
import { Table } from '../store/table';
import { waitFor } from '../transport/testing/wait-for';
import { fromFlat } from './flat-states';
import { ReplicationMessage, STATES_PER_ACK, WriteMessage } from './messages';
import { FanoutPeer, WriteFanout } from './write-fanout';

/** Resolves once the I/O callbacks that were ready have run: writes made while others are in flight have gone out. */
const endOfTurn = () => new Promise((resolve) => setImmediate(resolve));

function peer(name: string) {
  const sent: ReplicationMessage[] = [];
  const p: FanoutPeer & { sent: ReplicationMessage[]; shared: boolean[]; dropped: string[] } = {
    name,
    sent,
    shared: [],
    dropped: [],
    send: (m, shared = false) => (sent.push(m), p.shared.push(shared)),
    disconnect: (reason) => p.dropped.push(reason),
  };
  return p;
}

describe('WriteFanout', () => {
  const clock = new ManualClock();
  const table = new Table('t', 'replicated', clock);
  const state = { ns: 'n', key: 'k', value: 1, expiresAt: clock.now() + 1000, version: 1, seen: 0, origin: 'a' };
  let fanout: WriteFanout;
  beforeEach(() => (fanout = new WriteFanout(clock, 1000)));
  afterEach(() => fanout.stop());

  it('hands the same message object to every peer, marked shared (encode once) only when it goes to several', async () => {
    const [a, b] = [peer('a'), peer('b')];
    fanout.add(a);
    void fanout.replicate(table, [state]);
    await Promise.resolve();
    fanout.add(b);
    void fanout.replicate(table, [state]);
    await endOfTurn();
    expect(a.shared).toEqual([false, true]);
    expect(b.shared).toEqual([true]);
    expect(b.sent[0]).toBe(a.sent[1]);
  });

  it('resolves at once with no peers', async () => {
    await expect(fanout.replicate(table, [state])).resolves.toBeUndefined();
  });

  it('resolves a write when every peer acknowledged it (cumulative acks)', async () => {
    const a = peer('a');
    const b = peer('b');
    fanout.add(a);
    fanout.add(b);
    let done = 0;
    const w1 = fanout.replicate(table, [state]).then(() => done++);
    await Promise.resolve(); // the next write is made in another turn: another batch, id 2
    const w2 = fanout.replicate(table, [state]).then(() => done++);
    await endOfTurn();
    expect(a.sent.map((m) => (m as { id: number }).id)).toEqual([1, 2]);
    fanout.acknowledge('a', 2);
    await Promise.resolve();
    expect(done).toBe(0);
    fanout.acknowledge('b', 1);
    await w1;
    expect(done).toBe(1);
    fanout.acknowledge('b', 2);
    await w2;
    expect(fanout.backlog()).toEqual({ a: 0, b: 0 });
  });

  it('releases the writes of a peer that goes away', async () => {
    const a = peer('a');
    fanout.add(a);
    const write = fanout.replicate(table, [state]);
    fanout.remove('a');
    await expect(write).resolves.toBeUndefined();
  });

  it('sends writes in flight again on a new link to the same peer', async () => {
    fanout.add(peer('a'));
    void fanout.replicate(table, [state]);
    await Promise.resolve();
    const again = peer('a');
    fanout.add(again);
    expect(again.sent).toHaveLength(1);
    expect(again.sent[0]).toMatchObject({ t: 'write', id: 1 });
    expect(fromFlat((again.sent[0] as WriteMessage).batches[0][1]).map((s) => s.key)).toEqual(['k']);
  });

  it('sends the writes of one turn to a peer as one message, applied in order', async () => {
    const a = peer('a');
    fanout.add(a);
    const other = new Table('u', 'replicated', clock);
    const writes = [fanout.replicate(table, [state]), fanout.replicate(table, [state, state]), fanout.replicate(other, [state])];
    await Promise.resolve();
    expect(a.sent).toHaveLength(1);
    expect(a.sent[0]).toMatchObject({ t: 'write', id: 1 });
    const batches = (a.sent[0] as { batches: [string, unknown[]][] }).batches;
    expect(batches.map(([name, states]) => [name, fromFlat(states).length])).toEqual([['t', 3], ['u', 1]]);
    fanout.acknowledge('a', 1);
    await Promise.all(writes);
  });

  it('sends a write at the end of its task while none is in flight, and the writes of many tasks as one message while one is', async () => {
    const a = peer('a');
    fanout.add(a);
    const first = fanout.replicate(table, [state]);
    await Promise.resolve();
    expect(a.sent).toHaveLength(1); // alone: no wait for the event loop
    // Two requests of one turn, each a task of its own, while the first write waits for its ack.
    const second = fanout.replicate(table, [state]);
    await Promise.resolve();
    const third = fanout.replicate(table, [state]);
    await Promise.resolve();
    expect(a.sent).toHaveLength(1);
    expect(fanout.backlog()).toEqual({ a: 3 });
    await endOfTurn();
    expect(a.sent).toHaveLength(2);
    expect(fromFlat((a.sent[1] as WriteMessage).batches[0][1])).toHaveLength(2);
    fanout.acknowledge('a', 2);
    await Promise.all([first, second, third]);
    expect(fanout.backlog()).toEqual({ a: 0 });
  });

  it('sends a long burst as messages of about STATES_PER_ACK states, released part by part', async () => {
    const a = peer('a');
    fanout.add(a);
    let done = 0;
    const writes = Array.from({ length: 2 * STATES_PER_ACK + 5 }, () => fanout.replicate(table, [state]).then(() => done++));
    await Promise.resolve();
    const sizes = a.sent.map((m) => fromFlat((m as WriteMessage).batches[0][1]).length);
    expect(sizes).toEqual([STATES_PER_ACK, STATES_PER_ACK, 5]);
    expect(a.sent.map((m) => (m as WriteMessage).id)).toEqual([1, 2, 3]);
    fanout.acknowledge('a', 1);
    await new Promise((r) => setImmediate(r));
    expect(done).toBe(STATES_PER_ACK);
    expect(fanout.backlog()).toEqual({ a: STATES_PER_ACK + 5 });
    fanout.acknowledge('a', 3);
    await Promise.all(writes);
    expect(fanout.backlog()).toEqual({ a: 0 });
  });

  it('counts async writes nobody awaits in the backlog until they are acknowledged', async () => {
    const a = peer('a');
    fanout.add(a);
    for (let i = 0; i < 3; i++) void fanout.replicate(table, [state]);
    await Promise.resolve();
    expect(a.sent).toHaveLength(1);
    expect(fanout.backlog()).toEqual({ a: 3 });
    clock.advance(7);
    fanout.acknowledge('a', 1);
    expect(fanout.backlog()).toEqual({ a: 0 });
    expect(fanout.lag()).toEqual({ a: 7 });
  });

  it('disconnects a peer that has not acknowledged within ackTimeout', async () => {
    const a = peer('a');
    fanout.add(a);
    void fanout.replicate(table, [state]);
    clock.advance(1000);
    // The watchdog is a real interval (ackTimeout / 4) reading the injected clock.
    await waitFor(() => a.dropped.includes('ack-timeout'), 2000, 'the ack-timeout disconnect');
  });
});
