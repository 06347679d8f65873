/** Whether a string is a cluster address, `host:port` (IPv6 hosts in brackets). */
export function isAddress(value: unknown): value is string {
  if (typeof value !== 'string') return false;
  const match = /^(\[[0-9a-fA-F:.]+\]|[^:\s]+):(\d{1,5})$/.exec(value);
  return match !== null && Number(match[2]) <= 65535;
}
