import type { EntryState } from '../store/entry';
import type { Table } from '../store/table';

/** What carries local writes of replicated tables to the other nodes. */
export interface WriteReplicator {
  /**
   * Sends the states of one atomic write to every connected peer. Resolves when
   * every peer connected at the time of the call has applied them.
   */
  replicate(table: Table, states: readonly EntryState[]): Promise<void>;

  /** Whether a write made now goes to any peer. */
  readonly sending: boolean;
}
