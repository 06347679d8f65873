import { ClusterLock } from './cluster-lock';
import type { PeerCalls } from './peer-calls';

type Handler = (from: string, body: unknown) => unknown;

/** Nodes whose calls reach each other's handlers directly; `lose` makes the next calls of a kind fail as a dropped link does. */
function cluster(names: string[]) {
  const handlers = new Map<string, Map<string, Handler>>();
  const lost = new Map<string, number>();
  const locks = new Map<string, ClusterLock>();
  for (const name of names) {
    handlers.set(name, new Map());
    const calls = {
      handle: (kind: string, handler: Handler) => handlers.get(name)!.set(kind, handler),
      call: async (peer: string, kind: string, body: unknown) => {
        await Promise.resolve();
        const left = lost.get(kind) ?? 0;
        if (left > 0) {
          lost.set(kind, left - 1);
          throw new Error(`the link to ${peer} dropped`);
        }
        return handlers.get(peer)!.get(kind)!(name, body);
      },
    } as unknown as PeerCalls;
    locks.set(name, new ClusterLock(name, calls, () => names.filter((n) => n !== name), 60_000, 1000));
  }
  return { locks, lose: (kind: string, times: number) => lost.set(kind, times) };
}

describe('ClusterLock', () => {
  it('takes a resource on every node, and refuses it to others while held', async () => {
    const { locks } = cluster(['a', 'b', 'c']);
    let inside: unknown;
    const held = locks.get('a')!.tryWith('r', async () => {
      inside = await locks.get('b')!.tryWith('r', async () => 'b ran');
      return 'a ran';
    });
    expect(await held).toEqual({ acquired: true, result: 'a ran' });
    expect(inside).toEqual({ acquired: false });
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(await locks.get('c')!.tryWith('r', async () => 'c ran')).toEqual({ acquired: true, result: 'c ran' });
  });

  it('sends an unlock again when the link it went out on dropped, so the peer does not hold the grant until it expires', async () => {
    const { locks, lose } = cluster(['a', 'b']);
    lose('unlock', 2);
    expect(await locks.get('a')!.tryWith('r', async () => 'a ran')).toEqual({ acquired: true, result: 'a ran' });
    // The first unlock and its first resend are lost; the next one (after 100 + 200 ms) lands.
    const deadline = Date.now() + 2000;
    let taken: { acquired: boolean } = { acquired: false };
    while (!taken.acquired && Date.now() < deadline) {
      taken = await locks.get('b')!.tryWith('r', async () => 'b ran');
      if (!taken.acquired) await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect(taken).toEqual({ acquired: true, result: 'b ran' });
  });
});
