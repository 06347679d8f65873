import { localCache } from '../../cache/testing/local-cache';
import { ManualClock } from '../../store/clock';
import type { EntryState } from '../../store/entry';
import { LocalSessionLock } from '../session-lock.interface';
import { SessionCache } from '../session-cache';

/** The session TTL of these nodes: 30 minutes, the default. */
export const SESSION_TTL = 30 * 60_000;

/** One node without Nest or sockets: a SessionCache over the 'credentials' namespace of a replicated table. */
export function sessionNode(options: { node?: string; clock?: ManualClock } = {}) {
  const local = localCache(options);
  const credentials = local.cache.namespace('credentials');
  return { ...local, credentials, sessions: new SessionCache<{ ip?: string }>(credentials, new LocalSessionLock(), SESSION_TTL) };
}

export type SessionNode = ReturnType<typeof sessionNode>;

/** A state as another node receives it (decoded from the wire: a copy). */
const copy = (state: EntryState): EntryState => ({ ns: state.ns, key: state.key, value: state.value, expiresAt: state.expiresAt, version: state.version, seen: state.seen, origin: state.origin });

/**
 * Two nodes with one clock that replicate every write to each other while
 * linked, as the mesh does. `split()` cuts the link; `heal()` links them again
 * and merges their tables both ways, as Unsplit's `merge` does.
 */
export function twoSessionNodes() {
  const clock = new ManualClock();
  const a = sessionNode({ node: 'a@127.0.0.1', clock });
  const b = sessionNode({ node: 'b@127.0.0.1', clock });
  let linked = true;
  const replicate = (from: SessionNode, to: SessionNode) =>
    from.engine.tap((_, states) => {
      if (linked && states.length > 0) to.engine.merge(to.table, states.map(copy));
    });
  replicate(a, b);
  replicate(b, a);
  return {
    clock,
    a,
    b,
    split(): void {
      linked = false;
    },
    heal(): void {
      const [fromA, fromB] = [[...a.table.states()].map(copy), [...b.table.states()].map(copy)];
      linked = true;
      a.engine.merge(a.table, fromB);
      b.engine.merge(b.table, fromA);
    },
  };
}
