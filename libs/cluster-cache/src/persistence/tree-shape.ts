import type { Database } from 'lmdb';
import type { CommitShape } from './disk-guard';
import type { StoredState } from './state-codec';

/**
 * What a commit adds to an LMDB file, estimated from the shape of the tree it
 * writes to (see `DiskGuard`, which admits commits the disk has room for).
 */

/** The shape of an LMDB tree, for estimating what a commit adds to the file. */
export interface Tree {
  pageSize: number;
  depth: number;
  leafPages: number;
  branchPages: number;
  overflowPages: number;
  /** When it was read (ms, monotonic enough for a cache). */
  at: number;
}

/** How long the tree's shape is taken as current for estimates of small commits, in ms. */
export const TREE_TTL = 1_000;
/** lmdb-js' header before each value: the entry version. */
const VERSION_BYTES = 8;
/** A leaf node's header and its slot in the page index. */
const NODE_OVERHEAD = 16;

/** The shape of `db`'s tree now; a closed or damaged file gives a deep, empty tree (the commit reports the file). */
export function readTree(db: Database<Buffer, Buffer>, now: number): Tree {
  try {
    const stats = db.getStats() as { pageSize: number; treeDepth: number; treeLeafPageCount: number; treeBranchPageCount: number; overflowPages: number };
    return {
      pageSize: stats.pageSize,
      depth: stats.treeDepth,
      leafPages: stats.treeLeafPageCount,
      branchPages: stats.treeBranchPageCount,
      overflowPages: stats.overflowPages,
      at: now,
    };
  } catch {
    return { pageSize: 4096, depth: 6, leafPages: 0, branchPages: 0, overflowPages: 0, at: now };
  }
}

/** What a commit of `stored` does to a tree, for `commitBytes`. */
export function shapeOf(stored: readonly StoredState[], tree: Tree): CommitShape {
  let bytes = 0;
  let largeValues = 0;
  const inline = tree.pageSize / 2 - 64;
  for (const s of stored) {
    const size = s.key.length + s.value.length + VERSION_BYTES + NODE_OVERHEAD;
    if (size > inline) largeValues += Math.ceil(size / tree.pageSize);
    else bytes += size;
  }
  return { ...tree, puts: stored.length, bytes, largeValues };
}

/** The pages a tree takes. */
export function pagesOf(tree: Tree): number {
  return tree.leafPages + tree.branchPages + tree.overflowPages;
}
