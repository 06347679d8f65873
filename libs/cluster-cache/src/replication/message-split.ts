import { FlatStates, splitFlat, STATE_FIELDS } from './flat-states';
import type { ReplicationMessage, WriteBatch, WriteMessage } from './messages';

/**
 * Two messages that carry, in order, what `message` carries: for a write or a
 * copy chunk whose encoding is larger than a frame (many large values in one
 * batch). `undefined` when it cannot be split: another kind of message, or a
 * single state (a put refuses values that large, see write-plan.ts).
 */
export function splitMessage(message: ReplicationMessage): [ReplicationMessage, ReplicationMessage] | undefined {
  if (message.t === 'copy-chunk') {
    if (message.states.length <= STATE_FIELDS) return undefined;
    const [first, second] = splitFlat(message.states);
    return [
      { ...message, states: first },
      { ...message, states: second },
    ];
  }
  if (message.t === 'write') {
    const halves = splitBatches(message.batches);
    if (halves === undefined) return undefined;
    // Only the last part is acknowledged: the writer's promise waits for all of them.
    const first: WriteMessage = { t: 'write', id: message.id, batches: halves[0], more: 1 };
    const second: WriteMessage = { t: 'write', id: message.id, batches: halves[1] };
    if (message.more === 1) second.more = 1;
    return [first, second];
  }
  return undefined;
}

function splitBatches(batches: WriteBatch[]): [WriteBatch[], WriteBatch[]] | undefined {
  if (batches.length > 1) {
    const at = batches.length >> 1;
    return [batches.slice(0, at), batches.slice(at)];
  }
  const [table, flat] = batches[0];
  if (flat.length <= STATE_FIELDS) return undefined;
  const [first, second]: FlatStates[] = splitFlat(flat);
  return [[[table, first]], [[table, second]]];
}
