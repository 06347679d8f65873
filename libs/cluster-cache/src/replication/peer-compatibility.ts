import { messages } from '../errors/messages';
import type { TableMode } from '../store/table';

/** What two nodes must agree on to share data; it travels in the hello. */
export interface ClusterShape {
  /** Every table of the node, with its mode. */
  tables: Array<[name: string, mode: TableMode]>;
  /** The `unsplit.strategy` option, `'off'` without the option. */
  unsplit: 'merge' | 'oldest-wins' | 'off';
}

/**
 * Why `self` must not share data with `peer`, or `undefined` if they may: a
 * replicated table missing or `local` on one side (its writes would never
 * reach the other), or another Unsplit strategy (the two sides would heal
 * differently). Pow refuses such a join too (`add_table_copy … no_exists`).
 */
export function incompatibility(self: string, mine: ClusterShape, peer: string, theirs: ClusterShape): string | undefined {
  if (mine.unsplit !== theirs.unsplit) return messages.incompatiblePeer('unsplit.strategy', self, mine.unsplit, peer, theirs.unsplit);
  const modes = new Map(theirs.tables);
  const names = new Set([...mine.tables.map(([name]) => name), ...modes.keys()]);
  const own = new Map(mine.tables);
  for (const name of [...names].sort()) {
    const here = own.get(name);
    const there = modes.get(name);
    if (here !== there && (here === 'replicated' || there === 'replicated')) {
      return messages.incompatiblePeer(`table "${name}"`, self, here ?? 'missing', peer, there ?? 'missing');
    }
  }
  return undefined;
}
