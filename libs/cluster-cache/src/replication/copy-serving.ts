import type { LoggerService } from '@nestjs/common';
import type { EntryState } from '../store/entry';
import { keyHash } from '../store/state-hash';
import type { Table } from '../store/table';
import { KeyHashTable } from './key-hash-table';
import type { CopyRequestMessage } from './messages';
import type { PeerSession } from './peer-session';
import { streamTables } from './table-copy';
import { float64sOf } from './wire-arrays';

/**
 * Answers a peer's `copy-request`: streams the tables it asked for that are
 * replicated here — all their live states, or those of some keys (by key
 * hash), or those of version `since` and newer — chunk by chunk.
 */
export function serveCopy(session: PeerSession, message: CopyRequestMessage, replicatedTable: (name: string) => Table | undefined, now: number, logger: LoggerService): void {
  const tables = message.tables.map(replicatedTable).filter((t): t is Table => t !== undefined);
  const only = message.keys ? withKeys(float64sOf(message.keys), now) : message.since === undefined ? undefined : newerThan(message.since, now);
  streamTables(session, message.id, tables, only).catch((error: unknown) => logger.error(`sending a copy to ${session.name} failed: ${String(error)}`));
}

/** A filter keeping the unexpired states of version `since` and newer. */
function newerThan(since: number, now: number): (state: EntryState) => boolean {
  return (state) => state.version >= since && state.expiresAt > now;
}

/** A filter keeping the live states of the keys with these hashes. */
function withKeys(keys: Float64Array, now: number): (state: EntryState) => boolean {
  const wanted = new KeyHashTable(keys.length);
  for (const key of keys) wanted.set(key, 0);
  return (state) => state.expiresAt > now && wanted.has(keyHash(state.ns, state.key));
}
