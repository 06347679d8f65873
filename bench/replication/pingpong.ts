/**
 * Raw TCP ping-pong between two Node processes (the anchor of figure 1), with
 * node:net only: every frame is a 4-byte big-endian length and a 100-byte
 * payload (104 B on the wire); the server parses every frame and echoes it;
 * the client keeps one request outstanding and times each round trip.
 * Nagle is off on both ends (as in the library's transport).
 *
 *   BENCH_ROLE=server|client BENCH_HOST=… BENCH_PORT=… node -r @swc-node/register bench/replication/pingpong.ts
 */
import { connect, createServer, Socket } from 'node:net';
import { nowNs, serve, summarise } from './common';

const role = process.env.BENCH_ROLE;
const host = process.env.BENCH_HOST ?? '127.0.0.1';
const port = Number(process.env.BENCH_PORT);
const PAYLOAD = 100;

/** Splits a byte stream into frames; calls `onFrame` with each whole frame (header included). */
function framer(onFrame: (frame: Buffer) => void): (chunk: Buffer) => void {
  let pending: Buffer | undefined;
  return (chunk) => {
    let buf = pending === undefined ? chunk : Buffer.concat([pending, chunk]);
    pending = undefined;
    let off = 0;
    while (buf.length - off >= 4) {
      const len = buf.readUInt32BE(off);
      if (buf.length - off - 4 < len) break;
      onFrame(buf.subarray(off, off + 4 + len));
      off += 4 + len;
    }
    if (off < buf.length) pending = buf.subarray(off);
  };
}

if (role === 'server') {
  const server = createServer((socket: Socket) => {
    socket.setNoDelay(true);
    socket.on('data', framer((frame) => socket.write(frame)));
    socket.on('error', () => undefined);
  });
  server.listen({ host, port }, () => serve({ exit: () => new Promise<void>((r) => server.close(() => r())) }, { listening: port }));
} else {
  const socket = connect({ host, port });
  socket.setNoDelay(true);
  let onEcho: (() => void) | undefined;
  socket.on('data', framer((frame) => {
    if (frame.length !== 4 + PAYLOAD) throw new Error(`bad echo of ${frame.length} B`);
    const cb = onEcho;
    onEcho = undefined;
    cb?.();
  }));
  const request = Buffer.alloc(4 + PAYLOAD, 0x61);
  request.writeUInt32BE(PAYLOAD, 0);
  socket.once('connect', () =>
    serve(
      {
        /** `n` round trips, one outstanding; latency of each in µs. */
        run({ n }: { n: number }) {
          const lat = new Float64Array(n);
          return new Promise((resolve) => {
            let i = 0;
            let t0 = 0;
            const start = nowNs();
            const send = (): void => {
              t0 = nowNs();
              onEcho = () => {
                lat[i++] = (nowNs() - t0) / 1e3;
                if (i < n) send();
                else resolve(summarise(lat, nowNs() - start));
              };
              socket.write(request);
            };
            send();
          });
        },
        exit: () => void socket.destroy(),
      },
      { connected: port },
    ),
  );
}
