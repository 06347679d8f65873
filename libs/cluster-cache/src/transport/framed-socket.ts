import type { Socket } from 'node:net';
import { FrameDecoder } from './frame-codec';
import { FLUSH_THRESHOLD_BYTES } from './transport.constants';
import { TransportError } from './transport.error';

/** Receives the payloads (kind byte + body) of incoming frames, in order. */
export type FrameHandler = (payload: Buffer) => void;

/**
 * A socket that carries frames: it decodes incoming bytes into payloads and batches the
 * frames written in one tick into a single socket write.
 *
 * Until a frame handler is set (during the handshake) payloads wait in a backlog that
 * {@link read} consumes. The socket is paused while that backlog is not empty, so an
 * unauthenticated peer cannot make the node buffer frames it did not ask for.
 */
export class FramedSocket {
  /** Resolves once the socket is fully closed. */
  readonly closed: Promise<void>;
  /** Bytes received so far; any byte proves the peer alive. */
  bytesReceived = 0;

  private readonly decoder: FrameDecoder;
  private queue: Buffer[] = [];
  private queuedBytes = 0;
  private flushScheduled = false;
  private graceTimer?: NodeJS.Timeout;
  private handler?: FrameHandler;
  private readonly backlog: Buffer[] = [];
  private reader?: { resolve(payload: Buffer): void; reject(error: Error): void };
  private readonly closeHandlers: Array<(error?: Error) => void> = [];
  private error?: Error;
  private ending = false;
  private isClosed = false;

  constructor(
    readonly socket: Socket,
    /** `host:port` of the peer, for logs (still known after the socket is gone). */
    readonly remoteAddress: string,
    maxFrameBytes: number,
    private readonly closeTimeout: number,
  ) {
    this.decoder = new FrameDecoder(maxFrameBytes);
    socket.setNoDelay(true); // writes are batched here; Nagle would only add latency
    socket.on('data', (chunk: Buffer) => this.receive(chunk));
    socket.on('error', (error) => (this.error ??= error));
    socket.on('close', () => this.onSocketClose());
    this.closed = new Promise((resolve) => this.closeHandlers.push(() => resolve()));
  }

  /** False once a close has started: writes are then dropped. */
  get isOpen(): boolean {
    return !this.ending && !this.socket.destroyed;
  }

  /** Bytes written but not yet handed to the kernel. */
  get bufferedBytes(): number {
    return this.queuedBytes + this.socket.writableLength;
  }

  /** Changes the frame size limit, e.g. from the handshake's to the link's once authenticated. */
  set maxFrameBytes(bytes: number) {
    this.decoder.maxFrameBytes = bytes;
  }

  /** Resolves when `event` fires; rejects if the socket closes first. */
  whenConnected(event: 'connect' | 'secureConnect'): Promise<void> {
    return new Promise((resolve, reject) => {
      this.socket.once(event, () => resolve());
      this.onClose(() => reject(this.closeError()));
    });
  }

  /** Next payload from the backlog (handshake use); rejects once the socket is closed. */
  read(): Promise<Buffer> {
    const payload = this.backlog.shift();
    if (payload) return Promise.resolve(payload);
    if (this.isClosed) return Promise.reject(this.closeError());
    this.socket.resume();
    return new Promise((resolve, reject) => (this.reader = { resolve, reject }));
  }

  /** Hands every payload, starting with the backlog, to `handler` from now on. */
  setFrameHandler(handler: FrameHandler): void {
    this.handler = handler;
    for (let payload; (payload = this.backlog.shift()) && !this.socket.destroyed; ) {
      this.dispatch(payload);
    }
    this.socket.resume();
  }

  /**
   * Queues a complete frame; the frames queued by the current task and its
   * microtasks go out in one write right after them (a microtask, not the next
   * event-loop turn: a reply costs no extra loop hop).
   */
  write(frame: Buffer): void {
    if (!this.isOpen) return;
    this.queue.push(frame);
    this.queuedBytes += frame.length;
    if (this.queuedBytes >= FLUSH_THRESHOLD_BYTES) return this.flush();
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    queueMicrotask(() => this.flush());
  }

  /** Writes out the queued frames now. */
  flush(): void {
    this.flushScheduled = false;
    if (this.queue.length === 0 || this.socket.destroyed) return;
    const data = this.queue.length === 1 ? this.queue[0] : Buffer.concat(this.queue, this.queuedBytes);
    this.queue = [];
    this.queuedBytes = 0;
    this.socket.write(data);
  }

  /**
   * Graceful close: flushes, half-closes, and destroys the socket if the peer has not
   * closed its side within `closeTimeout`.
   */
  end(): void {
    if (!this.isOpen) return;
    this.flush();
    this.ending = true;
    // Keep reading (and discard) so the peer's end of stream is seen and the socket closes.
    this.handler = () => undefined;
    this.backlog.length = 0;
    this.socket.resume();
    this.socket.end();
    this.graceTimer = setTimeout(() => this.socket.destroy(), this.closeTimeout);
  }

  /** Abrupt close; queued frames are dropped. `error` becomes the close error. */
  destroy(error?: Error): void {
    if (this.socket.destroyed) return;
    if (error) this.error ??= error;
    this.ending = true;
    this.socket.destroy();
  }

  /**
   * Calls `handler` once the socket is closed, with the error that closed it (none for
   * an orderly close). Called asynchronously if the socket is already closed.
   */
  onClose(handler: (error?: Error) => void): void {
    if (this.isClosed) queueMicrotask(() => handler(this.error));
    else this.closeHandlers.push(handler);
  }

  private receive(chunk: Buffer): void {
    this.bytesReceived += chunk.length;
    let payloads: Buffer[];
    try {
      payloads = this.decoder.push(chunk);
    } catch (error) {
      this.destroy(error as Error);
      return;
    }
    for (const payload of payloads) {
      if (this.socket.destroyed) return;
      this.dispatch(payload);
    }
    if (this.backlog.length > 0) this.socket.pause();
  }

  private dispatch(payload: Buffer): void {
    if (this.handler) {
      try {
        this.handler(payload);
      } catch (error) {
        this.destroy(error instanceof Error ? error : new Error(String(error)));
      }
    } else if (this.reader) {
      const { resolve } = this.reader;
      this.reader = undefined;
      resolve(payload);
    } else {
      this.backlog.push(payload);
    }
  }

  private onSocketClose(): void {
    this.isClosed = true;
    this.ending = true;
    clearTimeout(this.graceTimer);
    this.queue = [];
    this.queuedBytes = 0;
    this.reader?.reject(this.closeError());
    this.reader = undefined;
    for (const handler of this.closeHandlers.splice(0)) handler(this.error);
  }

  private closeError(): Error {
    return this.error ?? new TransportError('connection-closed', 'connection closed by the peer');
  }
}
