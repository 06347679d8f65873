import type { NodeInfo } from '../transport/node-info';
import type { PeerLink } from '../transport/peer-link.interface';
import { TransportError } from '../transport/transport.error';
import { splitMessage } from './message-split';
import { STATES_PER_ACK } from './messages';
import type { HelloMessage, ReplicationMessage } from './messages';

/** Send-buffer size above which a copy waits for the link to drain. */
const HIGH_WATER_BYTES = 8 * 1024 * 1024;

/** What this node knows about one linked peer. */
export class PeerSession {
  /** The peer's hello, once received: until then it gets no writes. */
  hello: HelloMessage | undefined;
  /** Whether the peer holds the cluster's data. */
  ready = false;
  joinedFrom: string | undefined;
  open = true;
  /** Set when this node dropped the link on purpose (`ClusterService.disconnect`). */
  closedHere = false;
  /** Id of the newest write applied from this peer. */
  private ackId = 0;
  /** States applied from this peer since the last acknowledgement. */
  private unacknowledged = 0;
  private ackScheduled = false;

  constructor(readonly link: PeerLink) {}

  get info(): NodeInfo {
    return this.link.peer;
  }

  get name(): string {
    return this.link.peer.name;
  }

  /** `name#incarnation`: one run of the peer's process. */
  get runId(): string {
    return `${this.link.peer.name}#${this.link.peer.incarnation}`;
  }

  /**
   * Sends `message`; one too large for a frame (a batch of large values) goes
   * as several smaller ones.
   * @param shared the same message object goes to other peers too: it is
   * encoded once for all of them, in a frame that defines its own record
   * structures (larger, and slower to decode, than the link's own stream: worth
   * it from two peers on, when it spares the writer an encode per extra peer).
   * @throws TransportError when it cannot be encoded, or is one state too large for a frame.
   */
  send(message: ReplicationMessage, shared = false): void {
    if (!this.open) return;
    try {
      if (shared) this.link.sendShared(message);
      else this.link.send(message);
    } catch (error) {
      const parts = error instanceof TransportError && error.code === 'frame-too-large' ? splitMessage(message) : undefined;
      if (parts === undefined) throw error;
      for (const part of parts) this.send(part);
    }
  }

  /**
   * Acknowledges writes up to `id`, whose message carried `states` states.
   * Every `STATES_PER_ACK` states the ack goes out at once, so the writer
   * resumes while this node applies the rest of a burst; the remainder is
   * acknowledged once after the burst (a microtask later).
   */
  acknowledge(id: number, states: number): void {
    this.ackId = id;
    this.unacknowledged += states;
    if (this.unacknowledged >= STATES_PER_ACK) return this.sendAck();
    if (this.ackScheduled) return;
    this.ackScheduled = true;
    queueMicrotask(() => {
      this.ackScheduled = false;
      if (this.unacknowledged > 0) this.sendAck();
    });
  }

  private sendAck(): void {
    this.unacknowledged = 0;
    if (this.open) this.link.sendAck(this.ackId);
  }

  /** Resolves when the link's send buffer has room. */
  async writable(): Promise<void> {
    while (this.open && this.link.bufferedBytes > HIGH_WATER_BYTES) await new Promise((r) => setTimeout(r, 5));
    await new Promise((r) => setImmediate(r));
  }
}
