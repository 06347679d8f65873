import { createSocket } from 'node:dgram';
import { createServer } from 'node:net';

/** A UDP port free on `host` right now (the OS picks it). */
export async function freeUdpPort(host = '127.0.0.1'): Promise<number> {
  const socket = createSocket('udp4');
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(0, host, () => resolve());
  });
  const { port } = socket.address();
  await new Promise<void>((resolve) => socket.close(() => resolve()));
  return port;
}

/** Whether a TCP port can be listened on at `host`. */
export function tcpPortIsFree(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, host, () => server.close(() => resolve(true)));
  });
}

/** A TCP port free on `host` right now (the OS picks it). */
export async function freeTcpPort(host = '127.0.0.1'): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, host, () => resolve());
  });
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/**
 * `count` consecutive TCP ports free on every one of `hosts` (for the
 * hosts-file strategy's port range), starting at a random base.
 */
export async function freeTcpPortRange(hosts: string[], count: number): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const base = 20_000 + Math.floor(Math.random() * 30_000);
    const checks = hosts.flatMap((host) => Array.from({ length: count }, (_, i) => tcpPortIsFree(host, base + i)));
    if ((await Promise.all(checks)).every(Boolean)) return base;
  }
  throw new Error(`no ${count} consecutive free TCP ports found on ${hosts.join(', ')}`);
}
