import { promises as dnsPromises } from 'node:dns';
import { isIP } from 'node:net';
import { LogLimiter } from '../util/log-limiter';
import { logSafe } from '../util/log-safe';
import type { DiscoveryContext, DiscoveryStrategy } from './discovery-strategy.interface';
import { checkDns, DISCOVERY_DEFAULTS, formatAddress } from './validate-discovery';
import type { DnsDiscoveryOptions } from './discovery-options';

/** Addresses named in a debug line before the rest is only counted. */
const LISTED_IN_DEBUG = 10;

/**
 * Polls DNS for the cluster's nodes every `interval`: the A or AAAA records
 * of `name` (each address with `port`), or its SRV records (each target with
 * its port; targets are resolved to addresses with the same servers, falling
 * back to the name itself). Every answer is reported; a node no longer in the
 * answer is simply not reported (the cluster keeps it while it is linked).
 *
 * What it keeps is bounded whatever the answers: the addresses of the last
 * answer only, and at most {@link DnsDiscovery.MAX_ADDRESSES} of them. From a
 * bigger answer it takes those that were in the previous answer, then a
 * random choice of the others, and warns (at most once a minute). An SRV
 * answer is cut to that many records before their targets are resolved.
 *
 * Resolver errors (timeouts, SERVFAIL, NXDOMAIN…) are logged once per distinct
 * error at warn level and retried at the next poll; a recovery is logged.
 * @publicApi
 */
export class DnsDiscovery implements DiscoveryStrategy {
  /**
   * Most addresses taken from one answer (and SRV records resolved per poll).
   * A mesh replicates everything to every node, so a cluster has far fewer
   * nodes; a node that finds some of them learns of the others from its peers.
   */
  static readonly MAX_ADDRESSES = 128;

  private readonly options: Required<Omit<DnsDiscoveryOptions, 'strategy' | 'port' | 'servers'>> & Pick<DnsDiscoveryOptions, 'port' | 'servers'>;
  private resolver: dnsPromises.Resolver | undefined;
  private context: DiscoveryContext | undefined;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = false;
  private lastError: string | undefined;
  private last: string[] = [];
  /** Warnings a DNS server can make repeat: an oversized answer (once a minute), errors that keep changing (5 a minute). */
  private readonly warnings = { oversized: new LogLimiter({ lines: 1, window: 60_000 }), error: new LogLimiter({ lines: 5, window: 60_000 }) };

  /** @param options checked like the `discovery` option (throws `InvalidOptionError`). */
  constructor(options: Omit<DnsDiscoveryOptions, 'strategy'>) {
    const checked = checkDns({ ...options, strategy: 'dns' }, 'dns');
    const d = DISCOVERY_DEFAULTS.dns;
    this.options = {
      name: checked.name,
      type: checked.type ?? d.type,
      port: checked.port,
      interval: checked.interval ?? d.interval,
      servers: checked.servers,
      timeout: checked.timeout ?? d.timeout,
    };
  }

  /** What is queried, e.g. `SRV _cluster._tcp.my-app` or `A my-app (port 14000)`. */
  get query(): string {
    const { type, name, port } = this.options;
    return `${type} ${name}${type === 'SRV' ? '' : ` (port ${port})`}`;
  }

  /** Starts polling (the first query is sent at once). */
  start(context: DiscoveryContext): void {
    if (this.resolver !== undefined && !this.stopped) throw new Error('dns discovery is already started');
    this.context = context;
    this.stopped = false;
    this.resolver = new dnsPromises.Resolver({ timeout: this.options.timeout, tries: 2 });
    if (this.options.servers !== undefined) this.resolver.setServers(this.options.servers);
    context.logger.log(
      `dns discovery: resolving ${this.query} every ${this.options.interval} ms with ${this.options.servers?.join(', ') ?? 'the system\'s DNS servers'}`,
    );
    this.schedule(0);
  }

  /** Stops polling and cancels a query in flight. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    this.timer = undefined;
    this.resolver?.cancel();
    await this.running;
  }

  /** The addresses of the last successful answer. */
  lastAnswer(): string[] {
    return [...this.last];
  }

  private schedule(delay: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.running = this.poll().finally(() => {
        this.running = undefined;
        this.schedule(this.options.interval);
      });
    }, delay);
    this.timer.unref();
  }

  private async poll(): Promise<void> {
    const context = this.context!;
    let addresses: string[];
    try {
      addresses = await this.resolve();
    } catch (error) {
      if (this.stopped) return;
      const e = error as NodeJS.ErrnoException;
      const description = logSafe(e.code ?? e.message);
      if (description !== this.lastError) {
        this.warn('error', `dns discovery: resolving ${this.query} failed: ${logSafe(e.message)}; retrying every ${this.options.interval} ms`);
      }
      this.lastError = description;
      return;
    }
    if (this.stopped) return;
    if (this.lastError !== undefined) context.logger.log(`dns discovery: resolving ${this.query} works again (${addresses.length} address(es))`);
    this.lastError = undefined;
    const sorted = this.take([...new Set(addresses)]).sort();
    if (sorted.join() !== this.last.join()) context.logger.debug(`dns discovery: ${this.query} → ${listed(sorted)}`);
    this.last = sorted;
    if (sorted.length > 0) context.found(sorted);
  }

  /**
   * At most MAX_ADDRESSES of an answer's addresses: those of the previous
   * answer first (a node keeps its view while the answer stays too big), then
   * a random choice of the others (over polls, each one gets its turn).
   */
  private take(unique: string[]): string[] {
    const max = DnsDiscovery.MAX_ADDRESSES;
    if (unique.length <= max) return unique;
    const previous = new Set(this.last);
    const kept = unique.filter((a) => previous.has(a));
    const others = unique.filter((a) => !previous.has(a));
    this.warn(
      'oversized',
      `dns discovery: ${this.query} answered ${unique.length} addresses; using ${max} of them (at most ${max} per answer: ` +
        'the ones of the previous answer, then a random choice)',
    );
    return [...kept.slice(0, max), ...sample(others, Math.max(0, max - kept.length))];
  }

  private async resolve(): Promise<string[]> {
    const resolver = this.resolver!;
    const { type, name, port } = this.options;
    if (type === 'A') return (await resolver.resolve4(name)).map((ip) => formatAddress(ip, port!));
    if (type === 'AAAA') return (await resolver.resolve6(name)).map((ip) => formatAddress(ip, port!));
    let records = await resolver.resolveSrv(name);
    const max = DnsDiscovery.MAX_ADDRESSES;
    if (records.length > max) {
      this.warn('oversized-srv', `dns discovery: ${this.query} answered ${records.length} SRV records; resolving ${max} of them (a random choice, at most ${max} per answer)`);
      records = sample(records, max);
    }
    const resolved = await Promise.all(records.map(async (r) => (await this.addressesOf(r.name)).map((host) => formatAddress(host, r.port))));
    return resolved.flat();
  }

  private warn(key: 'error' | 'oversized' | 'oversized-srv', message: string): void {
    const line = (key === 'error' ? this.warnings.error : this.warnings.oversized).take(key, message);
    if (line !== undefined) this.context?.logger.warn(line);
  }

  /** The addresses of an SRV target (IPv4 first, then IPv6); the name itself if it resolves to none. */
  private async addressesOf(target: string): Promise<string[]> {
    const host = target.replace(/\.$/, '');
    if (isIP(host) !== 0) return [host];
    const resolver = this.resolver!;
    for (const lookup of [(h: string) => resolver.resolve4(h), (h: string) => resolver.resolve6(h)]) {
      try {
        const found = await lookup(host);
        if (found.length > 0) return found;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ECANCELLED') throw error;
      }
    }
    this.context?.logger.debug(`dns discovery: SRV target ${logSafe(host)} has no A/AAAA records at ${this.options.servers?.join(', ') ?? 'the system servers'}; reporting it by name`);
    return [host];
  }
}

/** `count` elements of `items` chosen at random (all of them if there are no more). */
function sample<T>(items: readonly T[], count: number): T[] {
  const pool = [...items];
  const n = Math.min(count, pool.length);
  for (let i = 0; i < n; i++) {
    const j = i + Math.floor(Math.random() * (pool.length - i));
    [pool[i], pool[j]] = [pool[j], pool[i]];
  }
  return pool.slice(0, n);
}

/** Addresses for a debug line: the first few, then how many more. */
function listed(addresses: readonly string[]): string {
  if (addresses.length === 0) return 'nothing';
  const shown = addresses.slice(0, LISTED_IN_DEBUG).map((a) => logSafe(a)).join(', ');
  return addresses.length > LISTED_IN_DEBUG ? `${shown} … (${addresses.length} in all)` : shown;
}
