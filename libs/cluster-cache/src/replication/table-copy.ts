import type { EntryState } from '../store/entry';
import type { Table } from '../store/table';
import { flatStates, putFlat, STATE_FIELDS } from './flat-states';
import type { ReplicationMessage } from './messages';

/** States per copy message: big enough to amortise framing, small enough to interleave with live writes. */
export const COPY_CHUNK = 2000;

/** States looked at between two yields to the event loop when a filter skips most of them (a few ms of work). */
const SCAN_SLICE = 20_000;

/** What a copy needs of the link it streams over. */
export interface CopyLink {
  send(message: ReplicationMessage): void;
  /** Resolves when the link's send buffer has room again (backpressure). */
  writable(): Promise<void>;
  /** False once the link is gone: the copy stops. */
  readonly open: boolean;
}

/**
 * Streams every state of `tables` (or those `only` keeps) to a peer in chunks,
 * yielding to the event loop between chunks, and during long runs of states
 * `only` skips, so this node keeps serving — and sending its own requests —
 * during a large copy. States written meanwhile reach the peer as ordinary
 * replicated writes; since states merge in any order, nothing is lost.
 */
export async function streamTables(link: CopyLink, id: number, tables: readonly Table[], only?: (state: EntryState) => boolean): Promise<number> {
  let sent = 0;
  let skipped = 0;
  for (const table of tables) {
    let chunk = flatStates(COPY_CHUNK);
    let count = 0;
    let previous: EntryState | undefined;
    for (const state of table.states()) {
      if (only !== undefined && !only(state)) {
        if (++skipped % SCAN_SLICE === 0) {
          await link.writable();
          if (!link.open) return sent;
        }
        continue;
      }
      putFlat(chunk, count, state, previous);
      previous = state;
      if (++count === COPY_CHUNK) {
        link.send({ t: 'copy-chunk', id, table: table.name, states: chunk });
        sent += count;
        chunk = flatStates(COPY_CHUNK);
        count = 0;
        previous = undefined;
        await link.writable();
        if (!link.open) return sent;
      }
    }
    chunk.length = count * STATE_FIELDS;
    if (count > 0) link.send({ t: 'copy-chunk', id, table: table.name, states: chunk });
    sent += count;
  }
  link.send({ t: 'copy-end', id });
  return sent;
}
