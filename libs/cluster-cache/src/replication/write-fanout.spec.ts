import { ManualClock } from '../store/clock';
import { Table } from '../store/table';
import { waitFor } from '../transport/testing/wait-for';
import type { ReplicationMessage } from './messages';
import { FanoutPeer, WriteFanout } from './write-fanout';

function peer(name: string) {
  const sent: ReplicationMessage[] = [];
  const p: FanoutPeer & { sent: ReplicationMessage[]; dropped: string[] } = {
    name,
    sent,
    dropped: [],
    send: (m) => sent.push(m),
    disconnect: (reason) => p.dropped.push(reason),
  };
  return p;
}

describe('WriteFanout', () => {
  const clock = new ManualClock();
  const table = new Table('t', 'replicated', clock);
  const state = { ns: 'n', key: 'k', value: 1, expiresAt: clock.now() + 1000, version: 1, seen: 0, origin: 'a', deleted: false };
  let fanout: WriteFanout;
  beforeEach(() => (fanout = new WriteFanout(clock, 1000)));
  afterEach(() => fanout.stop());

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
    const w2 = fanout.replicate(table, [state]).then(() => done++);
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

  it('sends writes in flight again on a new link to the same peer', () => {
    fanout.add(peer('a'));
    void fanout.replicate(table, [state]);
    const again = peer('a');
    fanout.add(again);
    expect(again.sent).toHaveLength(1);
    expect(again.sent[0]).toMatchObject({ t: 'write', id: 1, batches: [['t', [expect.any(Array)]]] });
  });

  it('sends the writes of one turn to a peer as one message, applied in order', async () => {
    const a = peer('a');
    fanout.add(a);
    const other = new Table('u', 'replicated', clock);
    const writes = [fanout.replicate(table, [state]), fanout.replicate(table, [state, state]), fanout.replicate(other, [state])];
    await Promise.resolve();
    expect(a.sent).toHaveLength(1);
    expect(a.sent[0]).toMatchObject({ t: 'write', id: 3 });
    const batches = (a.sent[0] as { batches: [string, unknown[]][] }).batches;
    expect(batches.map(([name, states]) => [name, states.length])).toEqual([['t', 3], ['u', 1]]);
    fanout.acknowledge('a', 3);
    await Promise.all(writes);
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
