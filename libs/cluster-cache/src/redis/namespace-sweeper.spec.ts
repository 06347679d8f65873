import { NamespaceSweeper, SWEEP_BATCH } from './namespace-sweeper';
import type { RedisConnection } from './redis-connection';
import { NamespaceKeys } from './redis-keys';

/** A connection whose SWEEP script answers from `replies` (dropped, ms to the next expiry) by index key. */
function fakeConnection(replies: Map<string, [number, number]>) {
  const swept: string[] = [];
  const closers: Array<() => void> = [];
  const connection = {
    script: () => async (keys: ReadonlyArray<string | Buffer>) => {
      swept.push(String(keys[0]));
      return replies.get(String(keys[0])) ?? [0, -1];
    },
    whenClosed: (stop: () => void) => closers.push(stop),
  } as unknown as RedisConnection;
  return { connection, swept, close: () => closers.forEach((stop) => stop()) };
}

describe('NamespaceSweeper', () => {
  const a = new NamespaceKeys('ncc:', 't', 'a');
  const b = new NamespaceKeys('ncc:', 't', 'b');

  it('sweeps a namespace once its first entry is due, and forgets it once its indexes are empty', async () => {
    const replies = new Map<string, [number, number]>([[a.index, [10, -1]]]);
    const { connection, swept, close } = fakeConnection(replies);
    const sweeper = new NamespaceSweeper(connection, 60_000);
    sweeper.wrote(a, 0);
    sweeper.wrote(b, 60_000);
    await sweeper.run();
    expect(swept).toEqual([a.index]);
    expect(sweeper.size).toBe(1);
    close();
  });

  it('sweeps again at the next expiry the script reports, and at once after a full batch', async () => {
    const replies = new Map<string, [number, number]>([
      [a.index, [3, 0]],
      [b.index, [SWEEP_BATCH, 600_000]],
    ]);
    const { connection, swept, close } = fakeConnection(replies);
    const sweeper = new NamespaceSweeper(connection, 60_000);
    sweeper.wrote(a, 0);
    sweeper.wrote(b, 0);
    await sweeper.run();
    await sweeper.run();
    expect([...swept].sort()).toEqual([a.index, a.index, b.index, b.index]);
    replies.set(b.index, [1, 600_000]);
    await sweeper.run();
    await sweeper.run();
    // b's next member expires in 10 minutes: not swept before.
    expect(swept.filter((key) => key === b.index)).toHaveLength(3);
    close();
    expect(sweeper.size).toBe(0);
  });

  it('keeps a namespace that a write touched during its sweep', async () => {
    let release!: () => void;
    const closers: Array<() => void> = [];
    const connection = {
      script: () => () => new Promise((resolve) => (release = () => resolve([5, -1]))),
      whenClosed: (stop: () => void) => closers.push(stop),
    } as unknown as RedisConnection;
    const sweeper = new NamespaceSweeper(connection, 60_000);
    sweeper.wrote(a, 0);
    const running = sweeper.run();
    sweeper.wrote(a, 60_000); // written again while the sweep runs, expiring later than the entry swept
    release(); // the script found the index empty: it ran before the write
    await running;
    expect(sweeper.size).toBe(1);
    closers.forEach((stop) => stop());
  });
});
