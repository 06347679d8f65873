import type { IncomingMessage } from 'node:http';
import { isIP } from 'node:net';

/**
 * The address of the client a request is for. Express works it out
 * (`request.ip`): behind a proxy on loopback — the demo's load balancer —
 * it is the address that proxy put last in X-Forwarded-For; otherwise the
 * TCP peer's (configureDemoApp sets `trust proxy` to `loopback`).
 */
export function clientAddress(request: IncomingMessage): string {
  return (request as IncomingMessage & { ip?: string }).ip ?? request.socket.remoteAddress ?? '';
}

/** Whether `address` is a loopback address: 127.0.0.0/8, ::1, or 127.x mapped into IPv6. */
export function isLoopback(address: string): boolean {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  const ip = mapped?.[1] ?? address;
  if (isIP(ip) === 4) return ip.startsWith('127.');
  if (isIP(ip) === 6) return /^(0{0,4}:){2,7}0{0,3}1$/.test(ip) || ip === '::1';
  return false;
}
