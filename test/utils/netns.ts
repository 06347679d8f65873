import { execFileSync } from 'node:child_process';

/** Runs `ip` with arguments; throws with its stderr on failure. */
export function ip(...args: string[]): string {
  try {
    return execFileSync('ip', args, { stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8' });
  } catch (error) {
    const e = error as { stderr?: string; message: string };
    throw new Error(`ip ${args.join(' ')} failed: ${e.stderr?.trim() || e.message}`);
  }
}

/** Fails with a clear message unless namespaces can be made here (root, iproute2). */
export function requireNetns(): void {
  if (process.getuid?.() !== 0) {
    throw new Error('the network-namespace specs need root (ip netns add): run as root, as CI does');
  }
  try {
    ip('netns', 'list');
  } catch (error) {
    throw new Error(`the network-namespace specs need "ip netns" (iproute2): ${(error as Error).message}`);
  }
}

/** Which hosts to make: names start with `prefix`, addresses are `<subnet>.N/24`. */
export interface NetnsHostsOptions {
  /** Prefix of every namespace, veth and bridge name (at most 9 characters: interface names have 15). */
  prefix: string;
  /** The first three octets of the hosts' addresses, e.g. `10.77.0`. */
  subnet: string;
  /** How many hosts (1 … count). */
  count: number;
}

/**
 * Separate hosts on one machine: network namespaces joined by a bridge.
 *
 * The bridges live in a namespace of their own (`<prefix>-hub`), so nothing
 * is added to the machine's own network; each host namespace `<prefix>-N` has
 * one veth `eth0` with the address `<subnet>.N/24` (the only addresses used)
 * and a route for multicast. Names are fixed by the prefix, so a run can
 * delete what a failed run left, and specs with different prefixes and
 * subnets can run in one session.
 *
 * `isolate()` cuts the network silently, like a cut cable: each group of
 * hosts gets a bridge of its own and packets between groups just stop.
 */
export class NetnsHosts {
  readonly prefix: string;
  readonly subnet: string;
  readonly count: number;
  /** The namespace holding the bridges. */
  readonly hub: string;

  constructor(options: NetnsHostsOptions) {
    if (options.prefix.length > 9) throw new Error(`netns prefix "${options.prefix}" is too long: interface names are limited to 15 characters`);
    this.prefix = options.prefix;
    this.subnet = options.subnet;
    this.count = options.count;
    this.hub = `${options.prefix}-hub`;
  }

  /** The namespace of host `n` (1-based) and its address. */
  host(n: number): { ns: string; address: string } {
    return { ns: `${this.prefix}-${n}`, address: `${this.subnet}.${n}` };
  }

  /** The bridge every host is on (`undefined`), or island `k`'s bridge. */
  private bridge(k?: number): string {
    return k === undefined ? `${this.prefix}-br` : `${this.prefix}-br${k}`;
  }

  private veth(n: number): string {
    return `${this.prefix}-v${n}`;
  }

  /**
   * Deletes these hosts' namespaces (and with them their veths and the
   * bridges), if they exist. Processes a failed run left inside them are
   * killed by pid first: they would keep the namespace's network alive.
   */
  remove(): void {
    const existing = new Set(ip('netns', 'list').split('\n').map((line) => line.split(' ')[0]));
    for (const ns of [this.hub, ...Array.from({ length: this.count }, (_, i) => this.host(i + 1).ns)]) {
      if (!existing.has(ns)) continue;
      for (const pid of ip('netns', 'pids', ns).split('\n').filter(Boolean)) {
        try {
          process.kill(Number(pid), 'SIGKILL');
        } catch {
          // already gone
        }
      }
      ip('netns', 'del', ns);
    }
  }

  /** Makes the hosts, all on one bridge, each with a multicast route. */
  create(): void {
    ip('netns', 'add', this.hub);
    // One bridge per possible island besides the shared one, made now so isolate() only moves ports.
    for (const k of [undefined, ...Array.from({ length: this.count }, (_, i) => i + 1)]) {
      ip('-n', this.hub, 'link', 'add', this.bridge(k), 'type', 'bridge');
      // No IGMP querier on this segment: flood multicast instead of snooping.
      ip('-n', this.hub, 'link', 'set', this.bridge(k), 'type', 'bridge', 'mcast_snooping', '0');
      ip('-n', this.hub, 'link', 'set', this.bridge(k), 'up');
    }
    for (let n = 1; n <= this.count; n++) {
      const { ns, address } = this.host(n);
      ip('netns', 'add', ns);
      ip('link', 'add', this.veth(n), 'netns', this.hub, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns);
      ip('-n', this.hub, 'link', 'set', this.veth(n), 'master', this.bridge(), 'up');
      ip('-n', ns, 'addr', 'add', `${address}/24`, 'brd', '+', 'dev', 'eth0');
      ip('-n', ns, 'link', 'set', 'lo', 'up');
      ip('-n', ns, 'link', 'set', 'eth0', 'up');
      ip('-n', ns, 'route', 'add', '224.0.0.0/4', 'dev', 'eth0');
    }
  }

  /**
   * Cuts the network into islands: each group of hosts (1-based numbers) on
   * a bridge of its own. Hosts in no group stay on the shared bridge.
   */
  isolate(groups: readonly (readonly number[])[]): void {
    groups.forEach((group, k) => {
      for (const n of group) ip('-n', this.hub, 'link', 'set', this.veth(n), 'master', this.bridge(k + 1));
    });
  }

  /** Puts every host back on the shared bridge: the cut is healed. */
  rejoin(): void {
    for (let n = 1; n <= this.count; n++) ip('-n', this.hub, 'link', 'set', this.veth(n), 'master', this.bridge());
  }
}
