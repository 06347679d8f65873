import { FlatStates, splitFlat, STATE_FIELDS } from './flat-states';
import type { ReplicationMessage, WriteBatch, WriteMessage } from './messages';

/**
 * Messages that carry, in order, what `message` carries: for a write or a
 * copy chunk whose encoding is larger than a frame (many large values in one
 * batch), two halves. `undefined` when it cannot be made smaller: another
 * kind of message, or a single state (its value goes as the bytes its put
 * measured, which fit a frame: values/wire-value.ts).
 */
export function splitMessage(message: ReplicationMessage): ReplicationMessage[] | undefined {
  if (message.t === 'copy-chunk') {
    if (message.states.length <= STATE_FIELDS) return undefined;
    const [first, second] = splitFlat(message.states);
    return [
      { ...message, states: first },
      { ...message, states: second },
    ];
  }
  if (message.t === 'write') {
    const parts = splitBatches(message.batches);
    if (parts === undefined) return undefined;
    // Only the last part is acknowledged: the writer's promise waits for all of them.
    const first: WriteMessage = { t: 'write', id: message.id, batches: parts[0], more: 1 };
    const second: WriteMessage = { t: 'write', id: message.id, batches: parts[1] };
    if (message.more === 1) second.more = 1;
    return [first, second];
  }
  return undefined;
}

function splitBatches(batches: WriteBatch[]): WriteBatch[][] | undefined {
  if (batches.length > 1) {
    const at = batches.length >> 1;
    return [batches.slice(0, at), batches.slice(at)];
  }
  const [table, flat] = batches[0];
  if (flat.length <= STATE_FIELDS) return undefined;
  const [first, second]: FlatStates[] = splitFlat(flat);
  return [[[table, first]], [[table, second]]];
}
