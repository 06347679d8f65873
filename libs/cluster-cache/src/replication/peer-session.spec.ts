import type { PeerLink } from '../transport/peer-link.interface';
import { STATES_PER_ACK } from './messages';
import { PeerSession } from './peer-session';

/** A link that records what the session writes to it, in order. */
function recordingLink(log: string[]): PeerLink {
  return {
    id: 'l',
    peer: { name: 'w', host: '127.0.0.1', port: 1, incarnation: 'i', startedAt: 0 },
    direction: 'inbound',
    closeReason: undefined,
    bufferedBytes: 0,
    send: () => true,
    sendShared: () => true,
    sendAck: (id) => (log.push(`ack ${id}`), true),
    onAck: () => () => undefined,
    onMessage: () => () => undefined,
    onClose: () => () => undefined,
    close: () => undefined,
  } as PeerLink;
}

describe('PeerSession acknowledgements', () => {
  it('acknowledges at once every STATES_PER_ACK applied states, before the rest of a burst is applied', async () => {
    const log: string[] = [];
    const session = new PeerSession(recordingLink(log));
    // A burst of 4 messages arriving in one read: the session acks while it still has messages to apply.
    for (let id = 1; id <= 4; id++) {
      log.push(`apply ${id}`);
      session.acknowledge(id, id < 4 ? STATES_PER_ACK : 3);
    }
    expect(log).toEqual([
      'apply 1', 'ack 1',
      'apply 2', 'ack 2',
      'apply 3', 'ack 3',
      'apply 4',
    ]);
    await Promise.resolve();
    // The rest is acknowledged once, after the burst.
    expect(log.slice(7)).toEqual(['ack 4']);
  });

  it('acknowledges small messages of one burst once, cumulatively', async () => {
    const log: string[] = [];
    const session = new PeerSession(recordingLink(log));
    for (let id = 1; id <= 5; id++) session.acknowledge(id, 1);
    expect(log).toEqual([]);
    await Promise.resolve();
    expect(log).toEqual(['ack 5']);
  });
});
