import { execFileSync } from 'node:child_process';

/** Default nftables table that holds the cuts (deleted whole to heal). */
const DEFAULT_TABLE = 'nest_cluster_cache_partitions';

/**
 * Real network partitions between loopback addresses, made with nftables:
 * packets between the two sides are dropped by the kernel, silently, like a
 * cut cable — no flag in the library. Needs root and the `nft` command
 * (Debian: `apt-get install nftables`). Only rules naming the given 127.x
 * addresses are added, so nothing else on the machine is affected.
 * @publicApi
 */
export class NftablesPartition {
  /** @param table the nftables table holding this instance's cuts (one per test run that may overlap others). */
  constructor(private readonly table = DEFAULT_TABLE) {}

  /** Whether `nft` can be used here (root and the command present). */
  static available(): boolean {
    try {
      execFileSync('nft', ['list', 'tables'], { stdio: 'ignore' });
      return true;
    } catch {
      return false;
    }
  }

  /** Cuts every address of `a` off from every address of `b` (both directions). */
  cut(a: readonly string[], b: readonly string[]): void {
    [...a, ...b].forEach(assertLoopback);
    this.ensureTable();
    for (const x of a) {
      for (const y of b) {
        nft('add', 'rule', 'inet', this.table, 'out', 'ip', 'saddr', x, 'ip', 'daddr', y, 'drop');
        nft('add', 'rule', 'inet', this.table, 'out', 'ip', 'saddr', y, 'ip', 'daddr', x, 'drop');
      }
    }
  }

  /** Splits the addresses into islands that cannot reach each other. */
  split(...islands: ReadonlyArray<readonly string[]>): void {
    for (let i = 0; i < islands.length; i++) for (let j = i + 1; j < islands.length; j++) this.cut(islands[i], islands[j]);
  }

  /** Removes every cut. */
  heal(): void {
    try {
      nft('delete', 'table', 'inet', this.table);
    } catch {
      // Nothing was cut.
    }
  }

  private ensureTable(): void {
    nft('add', 'table', 'inet', this.table);
    nft('add', 'chain', 'inet', this.table, 'out', '{ type filter hook output priority 0 ; policy accept ; }');
  }
}

function nft(...args: string[]): void {
  execFileSync('nft', args, { stdio: ['ignore', 'ignore', 'pipe'] });
}

function assertLoopback(address: string): void {
  if (!/^127\.\d+\.\d+\.\d+$/.test(address)) throw new Error(`NftablesPartition only cuts loopback addresses (127.x.y.z), got ${address}`);
}
