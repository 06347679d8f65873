import type { ChildProcess, StdioOptions } from 'node:child_process';

/** One demo node. */
export interface DemoNode {
  id: string;
  /** Cluster node name, e.g. `a@127.0.0.1`. */
  name: string;
  host: string;
  /** HTTP port. */
  port: number;
  /** Cluster (TCP) port. */
  clusterPort: number;
  /** Persistence directory (CACHE_DIR). */
  dir: string;
}

export interface DemoLayout {
  host: string;
  dataDir: string;
  /** DEMO_ALLOWED_ORIGINS given to the nodes: comma-separated origins whose pages may POST and DELETE. */
  allowedOrigins: string;
  cookie: string;
  sessionSecret: string;
  sessionTtl: string | undefined;
  renewAfter: string | undefined;
  nodes: DemoNode[];
  lb: { host: string; port: number };
}

export const ROOT: string;
export const MAIN: string;
export function demoLayout(env?: NodeJS.ProcessEnv): DemoLayout;
export function nodeEnv(node: DemoNode, layout: DemoLayout, base?: NodeJS.ProcessEnv): NodeJS.ProcessEnv;
export function startNode(node: DemoNode, layout: DemoLayout, options?: { stdio?: StdioOptions; env?: NodeJS.ProcessEnv }): ChildProcess;
export function build(options?: { stdio?: 'inherit' | 'pipe' }): void;
export function isBuildFresh(): boolean;
export function ensureBuilt(options?: { stdio?: 'inherit' | 'pipe' }): void;
/** A port the demo listens on, and what for (e.g. "node a's HTTP port"). */
export interface DemoPort {
  port: number;
  what: string;
}
export function demoPorts(layout: DemoLayout): DemoPort[];
export function busyPorts(layout: DemoLayout): Promise<DemoPort[]>;
