import { statSync } from 'node:fs';
import { isIP } from 'node:net';
import { networkInterfaces } from 'node:os';
import { resolve as resolvePath } from 'node:path';
import { promises as dnsPromises } from 'node:dns';
import { InvalidOptionError } from '../errors/cluster-cache.error';
import type { DiscoveryOptions } from './discovery-options';

/** The strategies the `discovery` option knows. */
export const DISCOVERY_STRATEGIES = ['static', 'gossip', 'hosts-file', 'dns', 'custom'] as const;

/** Defaults of the discovery strategies (also what the guide documents). */
export const DISCOVERY_DEFAULTS = {
  static: { interval: 2_000 },
  gossip: {
    port: 45892,
    group: '233.252.1.32',
    ttl: 1,
    interval: 1_500,
    broadcastAddress: '255.255.255.255',
    replayWindow: 30_000,
  },
  hostsFile: { path: '.hosts.erlang', ports: [14000, 14010] as [number, number], interval: 5_000, connectTimeout: 500, concurrency: 16 },
  dns: { type: 'A' as 'A' | 'AAAA' | 'SRV', interval: 5_000, timeout: 2_000 },
} as const;

/** Largest port range the hosts-file strategy probes (per host). */
export const MAX_PROBED_PORTS = 1024;

const KNOWN_KEYS: Record<(typeof DISCOVERY_STRATEGIES)[number], readonly string[]> = {
  static: ['strategy', 'nodes', 'interval'],
  gossip: ['strategy', 'port', 'group', 'ttl', 'interface', 'broadcastOnly', 'broadcastAddress', 'interval', 'secret', 'replayWindow'],
  'hosts-file': ['strategy', 'path', 'ports', 'interval', 'connectTimeout', 'concurrency'],
  dns: ['strategy', 'name', 'type', 'port', 'interval', 'servers', 'timeout'],
  custom: ['strategy', 'use'],
};

/** What the checks may look at besides the entry itself. */
export interface DiscoveryCheckContext {
  /** This node's cluster port (`node.port`; 0 = any free port), to check it is findable. */
  nodePort?: number;
  /** Whether to check that files (the hosts file) exist. Default true. */
  checkFiles?: boolean;
}

/**
 * Checks the `discovery` option and returns the entries with numbers
 * normalized (numeric strings from environment variables are accepted).
 * Throws `InvalidOptionError` with a message that says what is wrong and what
 * to do, so a misconfigured node fails at start rather than never finding its
 * peers.
 */
export function validateDiscovery(value: unknown, context: DiscoveryCheckContext = {}): DiscoveryOptions[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) throw new InvalidOptionError('discovery', 'must be an array of { strategy, ... } entries');
  return value.map((entry, i) => validateDiscoveryEntry(entry, `discovery[${i}]`, context));
}

/** Checks one entry of the `discovery` option; `path` names it in errors (e.g. `discovery[0]`). */
export function validateDiscoveryEntry(entry: unknown, path: string, context: DiscoveryCheckContext = {}): DiscoveryOptions {
  if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) {
    throw new InvalidOptionError(path, `must be an object like { strategy: 'gossip' }, got ${describe(entry)}`);
  }
  const e = entry as Record<string, unknown>;
  const strategy = e.strategy;
  if (typeof strategy !== 'string' || !(DISCOVERY_STRATEGIES as readonly string[]).includes(strategy)) {
    throw new InvalidOptionError(`${path}.strategy`, `must be one of ${DISCOVERY_STRATEGIES.map((s) => `"${s}"`).join(', ')}, got ${describe(strategy)}`);
  }
  const known = KNOWN_KEYS[strategy as (typeof DISCOVERY_STRATEGIES)[number]];
  for (const key of Object.keys(e)) {
    if (!known.includes(key)) {
      throw new InvalidOptionError(`${path}.${key}`, `is not an option of the "${strategy}" strategy (its options: ${known.filter((k) => k !== 'strategy').join(', ')})`);
    }
  }
  switch (strategy) {
    case 'static':
      return checkStatic(e, path);
    case 'gossip':
      return checkGossip(e, path);
    case 'hosts-file':
      return checkHostsFile(e, path, context);
    case 'dns':
      return checkDns(e, path);
    default:
      return checkCustom(e, path);
  }
}

function checkStatic(e: Record<string, unknown>, path: string): DiscoveryOptions {
  if (!(Array.isArray(e.nodes) && e.nodes.every(isAddress))) {
    throw new InvalidOptionError(`${path}.nodes`, `must be a list of "host:port" cluster addresses (e.g. ["10.0.0.5:14000"]), got ${describe(e.nodes)}`);
  }
  return { strategy: 'static', nodes: [...e.nodes], ...opt('interval', integer(e.interval, `${path}.interval`, 1)) };
}

/** Checks gossip options (also used by `new GossipDiscovery()`). */
export function checkGossip(e: Record<string, unknown>, path: string): DiscoveryOptions & { strategy: 'gossip' } {
  const broadcastOnly = e.broadcastOnly ?? false;
  if (typeof broadcastOnly !== 'boolean') throw new InvalidOptionError(`${path}.broadcastOnly`, `must be true or false, got ${describe(broadcastOnly)}`);
  const port = integer(e.port, `${path}.port`, 1, 65535);
  const ttl = integer(e.ttl, `${path}.ttl`, 0, 255);
  const interval = integer(e.interval, `${path}.interval`, 1);
  const replayWindow = integer(e.replayWindow, `${path}.replayWindow`, 1_000);
  const group = optionalString(e.group, `${path}.group`);
  if (group !== undefined && !isMulticastV4(group)) {
    throw new InvalidOptionError(`${path}.group`, `must be an IPv4 multicast address (224.0.0.0 to 239.255.255.255; default ${DISCOVERY_DEFAULTS.gossip.group}), got "${group}"`);
  }
  const iface = optionalString(e.interface, `${path}.interface`);
  if (iface !== undefined) checkInterface(iface, `${path}.interface`);
  const broadcastAddress = optionalString(e.broadcastAddress, `${path}.broadcastAddress`);
  if (broadcastAddress !== undefined) {
    if (isIP(broadcastAddress) !== 4) {
      throw new InvalidOptionError(`${path}.broadcastAddress`, `must be an IPv4 broadcast address (e.g. "10.0.0.255" for 10.0.0.0/24, or "255.255.255.255"), got "${broadcastAddress}"`);
    }
    if (!broadcastOnly) {
      throw new InvalidOptionError(`${path}.broadcastAddress`, 'is only used with broadcastOnly: true (without it gossip uses multicast); set broadcastOnly: true or remove it');
    }
  }
  const secret = optionalString(e.secret, `${path}.secret`);
  if (secret !== undefined && secret.length < 16) {
    throw new InvalidOptionError(`${path}.secret`, 'must be at least 16 characters (it is the key that encrypts the heartbeats)');
  }
  return {
    strategy: 'gossip',
    ...opt('port', port),
    ...opt('group', group),
    ...opt('ttl', ttl),
    ...opt('interface', iface),
    ...opt('broadcastOnly', e.broadcastOnly === undefined ? undefined : broadcastOnly),
    ...opt('broadcastAddress', broadcastAddress),
    ...opt('interval', interval),
    ...opt('secret', secret),
    ...opt('replayWindow', replayWindow),
  };
}

function checkInterface(iface: string, option: string): void {
  if (isIP(iface) !== 4) {
    throw new InvalidOptionError(
      option,
      `must be the IPv4 address of the network interface to gossip on, not an interface name (e.g. "127.0.0.1" on loopback, or the address of eth0), got "${iface}"`,
    );
  }
  const local = localIPv4Addresses();
  if (iface !== '0.0.0.0' && !iface.startsWith('127.') && !local.includes(iface)) {
    throw new InvalidOptionError(
      option,
      `is ${iface}, which is not an address of this host (its IPv4 addresses: ${local.join(', ') || 'none'}); gossip sends and receives on this address`,
    );
  }
}

/** Checks hosts-file options (also used by `new HostsFileDiscovery()`). */
export function checkHostsFile(e: Record<string, unknown>, path: string, context: DiscoveryCheckContext = {}): DiscoveryOptions & { strategy: 'hosts-file' } {
  const file = optionalString(e.path, `${path}.path`);
  if (file === '') throw new InvalidOptionError(`${path}.path`, 'must be the path of the hosts file, got ""');
  let ports: [number, number] | undefined;
  if (e.ports !== undefined) {
    if (!Array.isArray(e.ports) || e.ports.length !== 2) {
      throw new InvalidOptionError(`${path}.ports`, `must be the cluster port range [from, to] to probe on each host (e.g. [14000, 14010]), got ${describe(e.ports)}`);
    }
    const from = integer(e.ports[0], `${path}.ports[0]`, 1, 65535)!;
    const to = integer(e.ports[1], `${path}.ports[1]`, 1, 65535)!;
    if (from > to) throw new InvalidOptionError(`${path}.ports`, `must be [from, to] with from <= to, got [${from}, ${to}]`);
    if (to - from + 1 > MAX_PROBED_PORTS) {
      throw new InvalidOptionError(`${path}.ports`, `spans ${to - from + 1} ports; at most ${MAX_PROBED_PORTS} are probed on each host, so give the nodes ports in a narrower range`);
    }
    ports = [from, to];
  }
  const [from, to] = ports ?? DISCOVERY_DEFAULTS.hostsFile.ports;
  if (context.nodePort !== undefined && (context.nodePort < from || context.nodePort > to)) {
    throw new InvalidOptionError(
      'node.port',
      `is ${context.nodePort === 0 ? '0 (any free port)' : context.nodePort}, outside ${path}.ports ${from}-${to}: the other nodes probe only that range, so they would never find this node; set node.port to a port from ${from} to ${to}`,
    );
  }
  if (context.checkFiles !== false) {
    const absolute = resolvePath(file ?? DISCOVERY_DEFAULTS.hostsFile.path);
    let isFile: boolean;
    try {
      isFile = statSync(absolute).isFile();
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      throw new InvalidOptionError(
        `${path}.path`,
        code === 'ENOENT'
          ? `names the hosts file ${absolute}, which does not exist; create it with one host per line (e.g. '10.0.0.5'.) or set the path${file === undefined ? ' (the default is .hosts.erlang in the working directory)' : ''}`
          : `names the hosts file ${absolute}, which cannot be read (${code ?? String(error)})`,
      );
    }
    if (!isFile) throw new InvalidOptionError(`${path}.path`, `names ${absolute}, which is not a file`);
  }
  return {
    strategy: 'hosts-file',
    ...opt('path', file),
    ...opt('ports', ports),
    ...opt('interval', integer(e.interval, `${path}.interval`, 1)),
    ...opt('connectTimeout', integer(e.connectTimeout, `${path}.connectTimeout`, 1)),
    ...opt('concurrency', integer(e.concurrency, `${path}.concurrency`, 1, 1024)),
  };
}

/** Checks DNS options (also used by `new DnsDiscovery()`). */
export function checkDns(e: Record<string, unknown>, path: string): DiscoveryOptions & { strategy: 'dns' } {
  const name = optionalString(e.name, `${path}.name`);
  if (name === undefined || name.trim() === '') {
    throw new InvalidOptionError(`${path}.name`, 'must be the DNS name to resolve (e.g. "my-app-headless.default.svc.cluster.local")');
  }
  const type = e.type ?? DISCOVERY_DEFAULTS.dns.type;
  if (type !== 'A' && type !== 'AAAA' && type !== 'SRV') {
    throw new InvalidOptionError(`${path}.type`, `must be "A", "AAAA" or "SRV", got ${describe(type)}`);
  }
  const port = integer(e.port, `${path}.port`, 1, 65535);
  if (type !== 'SRV' && port === undefined) {
    throw new InvalidOptionError(
      `${path}.port`,
      `is required with type "${type}": ${type} records carry no port, so give the cluster port of the nodes behind ${name} (or use type "SRV")`,
    );
  }
  if (type === 'SRV' && port !== undefined) {
    throw new InvalidOptionError(`${path}.port`, 'is not used with type "SRV" (the SRV records carry the ports); remove it');
  }
  let servers: string[] | undefined;
  if (e.servers !== undefined) {
    if (!Array.isArray(e.servers) || e.servers.length === 0 || !e.servers.every((s) => typeof s === 'string')) {
      throw new InvalidOptionError(`${path}.servers`, `must be a non-empty list of DNS server addresses ("10.0.0.2", "10.0.0.2:53", "[::1]:53"), got ${describe(e.servers)}`);
    }
    try {
      new dnsPromises.Resolver().setServers(e.servers);
    } catch (error) {
      throw new InvalidOptionError(`${path}.servers`, `must be DNS server IP addresses, optionally with a port ("10.0.0.2:53", "[::1]:53"): ${(error as Error).message}`);
    }
    servers = [...e.servers];
  }
  return {
    strategy: 'dns',
    name,
    type,
    ...opt('port', port),
    ...opt('interval', integer(e.interval, `${path}.interval`, 1)),
    ...opt('servers', servers),
    ...opt('timeout', integer(e.timeout, `${path}.timeout`, 1)),
  };
}

function checkCustom(e: Record<string, unknown>, path: string): DiscoveryOptions {
  const use = e.use as { start?: unknown; stop?: unknown } | undefined;
  if (typeof use !== 'object' || use === null || typeof use.start !== 'function' || typeof use.stop !== 'function') {
    const missing = typeof use !== 'object' || use === null ? [] : ['start', 'stop'].filter((m) => typeof (use as Record<string, unknown>)[m] !== 'function');
    throw new InvalidOptionError(
      `${path}.use`,
      `must be an object implementing DiscoveryStrategy, with start(context) and stop() methods (e.g. new MyDiscovery()), got ${describe(use)}` +
        (missing.length > 0 ? ` without ${missing.map((m) => `${m}()`).join(' and ')}` : ''),
    );
  }
  return { strategy: 'custom', use: e.use as never };
}

/** Whether a string is `host:port` (IPv6 hosts in brackets). */
export function isAddress(value: unknown): value is string {
  if (typeof value !== 'string') return false;
  const match = /^(\[[0-9a-fA-F:.]+\]|[^:\s[\]]+):(\d{1,5})$/.exec(value);
  return match !== null && Number(match[2]) >= 1 && Number(match[2]) <= 65535;
}

/** Formats `host:port`, with IPv6 hosts in brackets. */
export function formatAddress(host: string, port: number): string {
  return isIP(host) === 6 ? `[${host}]:${port}` : `${host}:${port}`;
}

/** The IPv4 addresses of this host's interfaces. */
export function localIPv4Addresses(): string[] {
  return Object.values(networkInterfaces())
    .flat()
    .filter((a): a is NonNullable<typeof a> => a !== undefined && (a.family === 'IPv4' || (a.family as unknown) === 4))
    .map((a) => a.address);
}

function isMulticastV4(address: string): boolean {
  if (isIP(address) !== 4) return false;
  const first = Number(address.split('.')[0]);
  return first >= 224 && first <= 239;
}

function opt<K extends string, V>(key: K, value: V | undefined): { [P in K]?: V } {
  return (value === undefined ? {} : { [key]: value }) as { [P in K]?: V };
}

function optionalString(value: unknown, option: string): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw new InvalidOptionError(option, `must be a string, got ${describe(value)}`);
  return value;
}

function integer(value: unknown, option: string, min: number, max = Number.MAX_SAFE_INTEGER): number | undefined {
  if (value === undefined || value === null) return undefined;
  const n = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < min || n > max) {
    throw new InvalidOptionError(option, `must be an integer from ${min} to ${max}, got ${describe(value)}`);
  }
  return n;
}

function describe(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (typeof value === 'function') return 'a function';
  try {
    const json = JSON.stringify(value);
    return json === undefined ? String(value) : json.length > 80 ? `${json.slice(0, 77)}...` : json;
  } catch {
    return Object.prototype.toString.call(value);
  }
}
