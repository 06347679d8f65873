import { ManualClock } from '../store/clock';
import { Store } from '../store/store';
import type { Table } from '../store/table';
import { fromFlat } from './flat-states';
import type { ReplicationMessage } from './messages';
import { COPY_CHUNK, streamTables } from './table-copy';

const MIN = 60_000;

function seeded(count: number) {
  const clock = new ManualClock();
  const store = new Store('a@h', clock);
  const table = store.addTable('t', 'replicated');
  for (let i = 0; i < count; i += 1000) {
    const ops = [];
    for (let j = i; j < Math.min(count, i + 1000); j++) ops.push({ ns: j % 2 === 0 ? 'even' : 'odd', key: j % 3 === 0 ? ['k', j] : `k${j}`, value: { j }, expiresAt: clock.now() + MIN });
    store.write(table, ops);
  }
  store.write(table, [{ ns: 'even', key: ['k', 0], delete: true, keepUntil: clock.now() + MIN }, { ns: 'odd', key: 'k1', delete: true, keepUntil: clock.now() + MIN }]);
  return { clock, store, table };
}

/** Streams `tables` into a list of messages. */
async function stream(tables: Table[], only?: Parameters<typeof streamTables>[3]) {
  const sent: ReplicationMessage[] = [];
  const link = { open: true, send: (m: ReplicationMessage) => void sent.push(m), writable: () => Promise.resolve() };
  const count = await streamTables(link, 7, tables, only);
  return { count, sent };
}

describe('streamTables', () => {
  it('sends every state, tombstones included, in flat chunks of COPY_CHUNK states, then copy-end', async () => {
    const { table } = seeded(COPY_CHUNK * 2 + 5);
    const { count, sent } = await stream([table]);
    expect(count).toBe(table.size);
    const chunks = sent.filter((m) => m.t === 'copy-chunk');
    expect(chunks.map((m) => fromFlat(m.states).length)).toEqual([COPY_CHUNK, COPY_CHUNK, 5]);
    expect(sent[sent.length - 1]).toEqual({ t: 'copy-end', id: 7 });
    const received = chunks.flatMap((m) => fromFlat(m.states));
    expect(received).toEqual([...table.states()]);
    expect(received.filter((s) => s.value === undefined)).toHaveLength(2);
  });

  it('sends only what the filter keeps', async () => {
    const { table } = seeded(50);
    const { count, sent } = await stream([table], (s) => s.ns === 'odd');
    expect(count).toBe(25);
    const received = sent.flatMap((m) => (m.t === 'copy-chunk' ? fromFlat(m.states) : []));
    expect(received.every((s) => s.ns === 'odd')).toBe(true);
    expect(received).toHaveLength(25);
  });

  it('sends no chunk for an empty table', async () => {
    const { store } = seeded(0);
    const empty = store.addTable('empty', 'replicated');
    const { count, sent } = await stream([empty]);
    expect(count).toBe(0);
    expect(sent).toEqual([{ t: 'copy-end', id: 7 }]);
  });
});
