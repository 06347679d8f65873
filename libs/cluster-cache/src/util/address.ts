import type { Socket } from 'node:net';

/** Whether a string is a cluster address, `host:port` (IPv6 hosts in brackets). */
export function isAddress(value: unknown): value is string {
  if (typeof value !== 'string') return false;
  const match = /^(\[[0-9a-fA-F:.]+\]|[^:\s]+):(\d{1,5})$/.exec(value);
  return match !== null && Number(match[2]) <= 65535;
}

/** A socket's remote end as `host:port`. */
export function remoteAddress(socket: Socket): string {
  return `${socket.remoteAddress}:${socket.remotePort}`;
}

/** The host part of a `host:port` address (IPv6 hosts hold colons too). */
export function hostOf(address: string): string {
  return address.slice(0, address.lastIndexOf(':'));
}
