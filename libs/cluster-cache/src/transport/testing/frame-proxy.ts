import { type AddressInfo, connect, createServer, type Server, type Socket } from 'node:net';
import { FRAME_HEADER_BYTES, FrameDecoder } from '../frame-codec';

/** A frame as it crossed the proxy: its payload (kind byte onwards) and its whole bytes. */
export interface CapturedFrame {
  payload: Buffer;
  bytes: Buffer;
}

/** What the proxy does with the next frame from the client: pass it, change it or drop it. */
export type FrameTamper = (frame: CapturedFrame) => Buffer | undefined;

/**
 * An on-path attacker for specs: a TCP proxy between one client and a server that
 * forwards the client's bytes frame by frame (so it can splice frames in between,
 * alter or drop one, and replay what it saw) and the server's bytes as they come.
 * It never knows the cookie.
 */
export class FrameProxy {
  /** Every frame the client sent through the proxy, in order. */
  readonly fromClient: CapturedFrame[] = [];
  /** Every byte the client sent, as one buffer per chunk (what a wire capture sees). */
  readonly wire: Buffer[] = [];
  private readonly sockets = new Set<Socket>();
  private toServer?: Socket;
  private tampers: FrameTamper[] = [];

  private constructor(
    private readonly server: Server,
    /** The port clients dial. */
    readonly port: number,
  ) {}

  /** Listens on `host` (port 0) and forwards each connection to `target`. */
  static async start(host: string, target: { host: string; port: number }): Promise<FrameProxy> {
    let proxy!: FrameProxy;
    const server = createServer((client) => proxy.relay(client, target));
    await new Promise<void>((resolve) => server.listen(0, host, resolve));
    proxy = new FrameProxy(server, (server.address() as AddressInfo).port);
    return proxy;
  }

  /** Writes `bytes` to the server between two of the client's frames, as if the client sent them. */
  inject(bytes: Buffer): void {
    this.toServer!.write(bytes);
  }

  /** Applies `tamper` to the next frame from the client (one tamper per frame, in order). */
  tamperNext(tamper: FrameTamper): void {
    this.tampers.push(tamper);
  }

  /** Resolves once the client sent `count` frames in all. */
  async framesFromClient(count: number, timeoutMs = 5_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.fromClient.length < count) {
      if (Date.now() > deadline) throw new Error(`the client sent ${this.fromClient.length} frames, not ${count}`);
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise((resolve) => this.server.close(resolve));
  }

  private relay(client: Socket, target: { host: string; port: number }): void {
    const server = connect(target);
    this.toServer = server;
    for (const socket of [client, server]) {
      this.sockets.add(socket);
      socket.on('error', () => undefined);
      socket.on('close', () => {
        client.destroy();
        server.destroy();
      });
    }
    const decoder = new FrameDecoder(64 * 1024 * 1024);
    client.on('data', (chunk: Buffer) => {
      this.wire.push(chunk);
      for (const payload of decoder.push(chunk)) {
        const header = Buffer.alloc(FRAME_HEADER_BYTES);
        header.writeUInt32BE(payload.length, 0);
        const frame = { payload: Buffer.from(payload), bytes: Buffer.concat([header, payload]) };
        this.fromClient.push(frame);
        const tamper = this.tampers.shift();
        const out = tamper ? tamper(frame) : frame.bytes;
        if (out !== undefined) server.write(out);
      }
    });
    server.on('data', (chunk: Buffer) => client.write(chunk));
  }
}
