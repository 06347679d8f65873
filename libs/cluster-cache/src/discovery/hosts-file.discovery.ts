import { createHash } from 'node:crypto';
import { promises as dnsPromises } from 'node:dns';
import { connect, isIP, Socket } from 'node:net';
import { resolve as resolvePath } from 'node:path';
import { LogLimiter } from '../util/log-limiter';
import { logSafe } from '../util/log-safe';
import type { DiscoveryContext, DiscoveryStrategy } from './discovery-strategy.interface';
import { parseHostsFile, QUOTED_LENGTH } from './hosts-file-parser';
import type { HostsFileEntry, HostsFileProblem } from './hosts-file-parser';
import { readHostsFile } from './hosts-file-reader';
import { checkHostsFile, DISCOVERY_DEFAULTS, formatAddress, localIPv4Addresses } from './validate-discovery';
import type { HostsFileDiscoveryOptions } from './discovery-options';

/** Malformed lines logged one by one per version of the file; the others are counted. */
const LINES_LOGGED = 5;

/**
 * Erlang's `ErlangHosts` strategy as libcluster has it, with epmd's part done
 * by probing: reads a hosts file, and on each host tries a TCP connection to
 * every port of the cluster port range (`ports`). Ports that accept are
 * reported; the cluster's authenticated handshake rejects anything that is not
 * a node. An address that accepted once is not probed again (the cluster keeps
 * linking to it, with backoff, while its host stays in the file).
 *
 * The file is read again every `interval`; a malformed line is logged (warn)
 * with its number and the rest is used. A missing file at start fails
 * `start()` with the path; one that disappears later keeps its last hosts.
 *
 * The file is not trusted to be sane: what it says is logged escaped and cut
 * (`logSafe`), the first few malformed lines of a version of the file are
 * logged and the others counted, warnings are rate-limited, a file over
 * {@link HostsFileDiscovery.MAX_FILE_BYTES} or one that is not a regular file
 * (a FIFO, a device) is refused, and hosts × ports is held to
 * {@link HostsFileDiscovery.MAX_ADDRESSES} (the first hosts of the file).
 * @publicApi
 */
export class HostsFileDiscovery implements DiscoveryStrategy {
  /** Largest hosts file read, in bytes (4 MiB); a bigger one is refused like an unreadable one. */
  static readonly MAX_FILE_BYTES = 4 * 1024 * 1024;
  /** Most addresses (hosts × ports of the range) probed and reported. */
  static readonly MAX_ADDRESSES = 4096;

  /** The absolute path of the hosts file. */
  readonly path: string;
  private readonly ports: [number, number];
  private readonly interval: number;
  private readonly connectTimeout: number;
  private readonly concurrency: number;
  private context: DiscoveryContext | undefined;
  /** SHA-256 of the file's text last parsed (the text itself may be megabytes). */
  private digest: string | undefined;
  /** SHA-256 of the problems last logged, so that a file changed elsewhere does not log them again. */
  private problemsDigest: string | undefined;
  private hosts: HostsFileEntry[] = [];
  /** Addresses (`ip:port`) that accepted a probe. */
  private readonly known = new Set<string>();
  private readonly probing = new Set<Socket>();
  /** Last problem logged per subject (the file, a host in the file), so each is logged once until it changes. */
  private readonly reported = new Map<string, string>();
  /** Warnings the file (or its hosts' resolution) can make repeat: at most 5 a minute of each kind. */
  private readonly warnings = new LogLimiter({ lines: 5, window: 60_000, keys: 16 });
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = false;

  /** @param options checked like the `discovery` option (throws `InvalidOptionError`); the file is checked at `start()`. */
  constructor(options: Omit<HostsFileDiscoveryOptions, 'strategy'> = {}) {
    const checked = checkHostsFile({ ...options, strategy: 'hosts-file' }, 'hosts-file', { checkFiles: false });
    const d = DISCOVERY_DEFAULTS.hostsFile;
    this.path = resolvePath(checked.path ?? d.path);
    this.ports = checked.ports ?? [...d.ports];
    this.interval = checked.interval ?? d.interval;
    this.connectTimeout = checked.connectTimeout ?? d.connectTimeout;
    this.concurrency = checked.concurrency ?? d.concurrency;
  }

  /** Reads the hosts file (throws, naming it, if it cannot be read) and starts probing. */
  start(context: DiscoveryContext): void {
    if (this.context !== undefined && !this.stopped) throw new Error('hosts-file discovery is already started');
    let text: string;
    try {
      text = readHostsFile(this.path, HostsFileDiscovery.MAX_FILE_BYTES);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      throw new Error(
        code === 'ENOENT'
          ? `hosts-file discovery: the hosts file ${this.path} does not exist; create it with one host per line (e.g. '10.0.0.5'.) or set the strategy's path`
          : `hosts-file discovery: cannot read the hosts file ${this.path}: ${logSafe((error as Error).message)}`,
      );
    }
    this.context = context;
    this.stopped = false;
    this.load(text);
    context.logger.log(
      `hosts-file discovery: ${this.hosts.length} host(s) from ${this.path}, probing ports ${this.ports[0]}-${this.ports[1]} every ${this.interval} ms`,
    );
    this.schedule(0);
  }

  /** Stops probing: closes probe sockets and waits for the current round to end. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    this.timer = undefined;
    for (const socket of this.probing) socket.destroy();
    await this.running;
  }

  /** The hosts currently read from the file. */
  currentHosts(): string[] {
    return this.hosts.map((h) => h.host);
  }

  private schedule(delay: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.running = this.round()
        .catch((error: unknown) => this.say('warn', 'failed', `hosts-file discovery: probing failed: ${logSafe(String(error))}`))
        .finally(() => {
          this.running = undefined;
          this.schedule(this.interval);
        });
    }, delay);
    this.timer.unref();
  }

  /**
   * Parses the file's text if it changed, keeps as many hosts as MAX_ADDRESSES
   * allows, and logs its bad lines: the first few, then how many more, and
   * nothing when they are the same as before.
   */
  private load(text: string): void {
    const digest = createHash('sha256').update(text).digest('base64');
    if (digest === this.digest) return;
    this.digest = digest;
    const parsed = parseHostsFile(text);
    const most = Math.max(1, Math.floor(HostsFileDiscovery.MAX_ADDRESSES / (this.ports[1] - this.ports[0] + 1)));
    if (parsed.hosts.length > most) {
      this.say(
        'warn',
        'hosts',
        `hosts-file discovery: ${this.path} lists ${parsed.hosts.length} hosts; using the first ${most} ` +
          `(at most ${HostsFileDiscovery.MAX_ADDRESSES} addresses: hosts × ports ${this.ports[0]}-${this.ports[1]})`,
      );
    }
    this.hosts = parsed.hosts.slice(0, most);
    const current = new Set(this.hosts.map((h) => `host ${h.host}`));
    for (const subject of this.reported.keys()) if (subject !== 'file' && !current.has(subject)) this.reported.delete(subject);
    this.logProblems(parsed.problems);
  }

  private logProblems(problems: readonly HostsFileProblem[]): void {
    const hash = createHash('sha256');
    for (const p of problems) hash.update(`${p.line}\0${p.problem}\0${p.text}\n`);
    const digest = hash.digest('base64');
    if (digest === this.problemsDigest) return;
    this.problemsDigest = digest;
    for (const p of problems.slice(0, LINES_LOGGED)) {
      this.say('warn', 'line', `hosts-file discovery: ${this.path} line ${p.line}: ${p.problem}; line ignored: ${logSafe(p.text, QUOTED_LENGTH)}`);
    }
    if (problems.length > LINES_LOGGED) {
      const rest = problems.slice(LINES_LOGGED);
      this.say(
        'warn',
        'lines',
        `hosts-file discovery: ${this.path} has ${rest.length} more malformed line(s), not logged one by one ` +
          `(lines ${rest.slice(0, 10).map((p) => p.line).join(', ')}${rest.length > 10 ? ', …' : ''}); they are ignored too`,
      );
    }
  }

  private reread(): void {
    try {
      this.load(readHostsFile(this.path, HostsFileDiscovery.MAX_FILE_BYTES));
      this.clearProblem('file', `${this.path} can be read again`);
    } catch (error) {
      const e = error as NodeJS.ErrnoException;
      const why = e.code === 'EFBIG' || e.code === 'EFTYPE' ? e.message : (e.code ?? String(error));
      this.problem('file', `cannot read the hosts file ${this.path} (${logSafe(why)}); using its last ${this.hosts.length} host(s)`);
    }
  }

  private async round(): Promise<void> {
    this.reread();
    const addresses = (await Promise.all(this.hosts.map((h) => this.addressesOf(h.host)))).flat();
    if (this.stopped) return;
    const current = new Set<string>();
    const candidates: string[] = [];
    for (const ip of new Set(addresses)) {
      for (let port = this.ports[0]; port <= this.ports[1]; port++) {
        if (this.isSelf(ip, port)) continue;
        const address = formatAddress(ip, port);
        current.add(address);
        if (!this.known.has(address)) candidates.push(address);
      }
    }
    // Hosts no longer in the file (or no longer resolving to an address) are forgotten.
    for (const address of this.known) if (!current.has(address)) this.known.delete(address);
    if (this.known.size > 0) this.context!.found([...this.known]);
    const accepted = await this.probeAll(candidates);
    if (this.stopped || accepted.length === 0) return;
    for (const address of accepted) this.known.add(address);
    this.context!.logger.debug(`hosts-file discovery: found ${accepted.join(', ')}`);
    this.context!.found(accepted);
  }

  private async addressesOf(host: string): Promise<string[]> {
    if (isIP(host) !== 0) return [host];
    try {
      const found = await dnsPromises.lookup(host, { all: true });
      this.clearProblem(`host ${host}`, `${logSafe(host)} resolves again`);
      return found.map((a) => a.address);
    } catch (error) {
      const why = (error as NodeJS.ErrnoException).code ?? String(error);
      this.problem(`host ${host}`, `cannot resolve ${logSafe(host)} from ${this.path}: ${logSafe(why)}; retrying every ${this.interval} ms`);
      return [];
    }
  }

  private isSelf(ip: string, port: number): boolean {
    const self = this.context!.self;
    if (port !== self.port) return false;
    if (ip === self.host) return true;
    const wildcard = self.host === '0.0.0.0' || self.host === '::';
    return wildcard && (ip.startsWith('127.') || ip === '::1' || localIPv4Addresses().includes(ip));
  }

  private async probeAll(addresses: string[]): Promise<string[]> {
    const accepted: string[] = [];
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < addresses.length && !this.stopped) {
        const address = addresses[next++];
        if (await this.probe(address)) accepted.push(address);
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.concurrency, addresses.length) }, worker));
    return accepted;
  }

  /** Whether a TCP connection to `address` is accepted within `connectTimeout`. */
  private probe(address: string): Promise<boolean> {
    const at = address.lastIndexOf(':');
    const host = address.slice(0, at).replace(/^\[|\]$/g, '');
    const port = Number(address.slice(at + 1));
    // From this node's own address (as the cluster dials), so the probed node's log names it.
    const own = this.context!.self.host;
    const localAddress = isIP(own) !== 0 && isIP(own) === isIP(host) && own !== '0.0.0.0' && own !== '::' ? own : undefined;
    return new Promise((resolve) => {
      const socket = connect({ host, port, localAddress });
      this.probing.add(socket);
      let settled = false;
      const done = (ok: boolean): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        this.probing.delete(socket);
        socket.destroy();
        resolve(ok);
      };
      const timer = setTimeout(() => done(false), this.connectTimeout);
      socket.once('connect', () => done(true));
      socket.once('error', () => done(false));
      socket.once('close', () => done(false));
    });
  }

  private problem(subject: string, message: string): void {
    if (this.reported.get(subject) === message) return;
    this.reported.set(subject, message);
    this.say('warn', subject === 'file' ? 'file' : 'host', `hosts-file discovery: ${message}`);
  }

  private clearProblem(subject: string, recovered: string): void {
    if (this.reported.delete(subject)) this.say('log', subject === 'file' ? 'file ok' : 'host ok', `hosts-file discovery: ${recovered}`);
  }

  /** Logs `message` unless lines of its kind came too often (see `warnings`). */
  private say(level: 'warn' | 'log', kind: string, message: string): void {
    const line = this.warnings.take(kind, message);
    if (line !== undefined) this.context?.logger[level](line);
  }
}
