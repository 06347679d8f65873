/** Options, shapes, addresses and the two node fixtures of the heal bench, and the bench-owned nftables partition. */
import { execFileSync, spawn } from 'node:child_process';
import { option } from '../util/cli-options';
import { join } from 'node:path';
import { childNodeFlags, Fixture, nowNs, ROOT } from '../replication/common';

// ---------- options ----------

export const RUNS = Number(option('runs') ?? 5);
export const MANUAL = option('manual') !== undefined;
export const ACK_TIMEOUT = option('ack-timeout') ? Number(option('ack-timeout')) : undefined;
export const PROF = option('prof') || undefined;
export const JSON_OUT = option('json') || undefined;
export const NO_WAIT = option('no-wait') !== undefined;
export const TARGET_MS = 1000;
export const BASE = Number(option('base') ?? 100_000);

/** The divergent writes of a run, made on each side while split. */
export interface Shape {
  name: string;
  label: string;
  a: { seed: number; n: number };
  b: { seed: number; n: number };
  /** Divergent keys (the spec's 100k). */
  divergent: number;
}
export const SHAPES: Record<string, Shape> = {
  disjoint: { name: 'disjoint', label: '50k new keys on each side', a: { seed: 11, n: 50_000 }, b: { seed: 12, n: 50_000 }, divergent: 100_000 },
  conflict: { name: 'conflict', label: 'the same 100k new keys on both sides, different values', a: { seed: 13, n: 100_000 }, b: { seed: 13, n: 100_000 }, divergent: 100_000 },
  control: { name: 'control', label: 'control: 500 new keys on each side (1k divergent)', a: { seed: 14, n: 500 }, b: { seed: 15, n: 500 }, divergent: 1_000 },
};
export const shapes = (option('shapes') ?? 'disjoint,conflict,control').split(',').map((s) => {
  const shape = SHAPES[s];
  if (shape === undefined) throw new Error(`unknown shape ${s} (disjoint, conflict, control)`);
  return shape;
});

export const HOSTS = { a: '127.0.81.1', b: '127.0.81.2' };
export const PORTS = { a: 47281, b: 47282 };
export const NAMES = { a: `a@${HOSTS.a}`, b: `b@${HOSTS.b}` };

// ---------- a real partition (bench-owned nftables table) ----------

const NFT_TABLE = 'ncc_bench_unsplit';
export const nft = (...args: string[]): void => void execFileSync('nft', args, { stdio: ['ignore', 'ignore', 'pipe'] });
export const partition = {
  cut(x: string, y: string): void {
    nft('add', 'table', 'inet', NFT_TABLE);
    nft('add', 'chain', 'inet', NFT_TABLE, 'out', '{ type filter hook output priority 0 ; policy accept ; }');
    nft('add', 'rule', 'inet', NFT_TABLE, 'out', 'ip', 'saddr', x, 'ip', 'daddr', y, 'drop');
    nft('add', 'rule', 'inet', NFT_TABLE, 'out', 'ip', 'saddr', y, 'ip', 'daddr', x, 'drop');
  },
  heal(): void {
    try {
      nft('delete', 'table', 'inet', NFT_TABLE);
    } catch {
      // nothing was cut
    }
  },
};

// ---------- fixtures ----------

export const fixtures: Fixture[] = [];

export async function startNode(label: 'a' | 'b', profileFlags: string[] = []): Promise<Fixture> {
  const spec = {
    name: NAMES[label],
    host: HOSTS[label],
    port: PORTS[label],
    // As TestCluster: the second node seeds the first (one side reconnects; no duplicate-link race).
    extraNodes: label === 'b' ? [`${HOSTS.a}:${PORTS.a}`] : [],
    unsplit: !MANUAL,
    ackTimeout: ACK_TIMEOUT,
  };
  const child = spawn(process.execPath, ['--expose-gc', ...childNodeFlags, ...profileFlags, '-r', '@swc-node/register', join(__dirname, 'heal-node.ts')], {
    cwd: ROOT,
    env: { ...process.env, NO_COLOR: '1', HEAL_NODE: JSON.stringify(spec) },
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
  });
  const fixture = new Fixture(label, child, nowNs());
  fixtures.push(fixture);
  await fixture.hello;
  return fixture;
}

export function killFixtures(): void {
  for (const f of fixtures) {
    try {
      if (f.child.exitCode === null && f.child.signalCode === null) f.child.kill('SIGKILL');
    } catch {
      /* gone */
    }
  }
}
