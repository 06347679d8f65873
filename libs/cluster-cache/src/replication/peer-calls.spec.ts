import { MessageCodec } from '../transport/frame-codec';
import type { ReplicationMessage } from './messages';
import { PeerCalls, ReplyParts } from './peer-calls';

/** Two nodes' PeerCalls, linked by a channel that encodes every message as a real frame (16 MiB limit). */
function linkedPair() {
  const nodes = new Map<string, PeerCalls>();
  const codecs = new Map<string, MessageCodec>([['a', new MessageCodec()], ['b', new MessageCodec()]]);
  const frames: number[] = [];
  const makeNode = (name: string, peer: string) =>
    new PeerCalls((to, message) => {
      if (to !== peer) return undefined;
      const codec = codecs.get(name)!;
      const frame = codec.encode(message); // throws past the frame limit
      frames.push(frame.length);
      setImmediate(() => deliver(nodes.get(peer)!, name, codec.decode(frame.subarray(5)) as ReplicationMessage));
      return `${name}-${peer}`;
    }, () => undefined);
  const deliver = (node: PeerCalls, from: string, message: ReplicationMessage) => {
    if (message.t === 'call') void node.serve(from, message);
    else if (message.t === 'reply-part') node.replyPart(message);
    else if (message.t === 'reply') node.reply(message);
  };
  nodes.set('a', makeNode('a', 'b'));
  nodes.set('b', makeNode('b', 'a'));
  return { a: nodes.get('a')!, b: nodes.get('b')!, frames };
}

describe('PeerCalls', () => {
  it('delivers a reply sent in parts, in order, even when the whole exceeds the frame limit', async () => {
    const { a, b, frames } = linkedPair();
    const part = (n: number) => new Uint8Array(6 * 1024 * 1024).fill(n);
    b.handle('big', () => new ReplyParts([part(1), part(2), part(3)]));
    const parts = await a.callInParts<Uint8Array>('b', 'big', {}, 5000);
    expect(parts.map((p) => [p.length, p[0], p[p.length - 1]])).toEqual([
      [6 * 1024 * 1024, 1, 1],
      [6 * 1024 * 1024, 2, 2],
      [6 * 1024 * 1024, 3, 3],
    ]);
    expect(Math.max(...frames)).toBeLessThan(16 * 1024 * 1024);
  });

  it('still answers plain calls in one message, and fails calls in parts like any other', async () => {
    const { a, b } = linkedPair();
    b.handle('echo', (_from, body) => body);
    b.handle('fails', () => {
      throw new Error('nope');
    });
    await expect(a.call('b', 'echo', { x: 1 }, 5000)).resolves.toEqual({ x: 1 });
    await expect(a.callInParts('b', 'fails', {}, 5000)).rejects.toThrow('nope');
    b.handle('slow', () => new Promise(() => undefined));
    const pending = a.callInParts('b', 'slow', {}, 5000);
    a.dropLink('a-b');
    await expect(pending).rejects.toThrow(/dropped/);
  });

  it('fails a copy whose chunk is not whole states, instead of throwing into the link', async () => {
    const calls = new PeerCalls(() => 'link', () => ({ name: 't' }) as never);
    const chunks: unknown[] = [];
    const pulled = calls.pull('b', ['t'], (_table, states) => chunks.push(states), undefined, 5000);
    expect(() => calls.chunk({ t: 'copy-chunk', id: 1, table: 't', states: [1, 2, 3] })).not.toThrow();
    await expect(pulled).rejects.toThrow(/not a whole number of states/);
    expect(chunks).toEqual([]);
  });
});
