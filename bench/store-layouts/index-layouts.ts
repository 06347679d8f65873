/** Heap per session of the per-user session index layouts. */
import { ExpiryIndex } from '../../libs/cluster-cache/src/store/expiry-index';
import { KeyIndex } from '../../libs/cluster-cache/src/store/key-index';
import type { EntryState } from '../../libs/cluster-cache/src/store/entry';
import { flat, prng } from '../util/harness';
import { CREATED_AT, token } from '../util/session-data';
import { N, TTL } from './setup';
import { currentState, nextVersion } from './pieces';
import { measure, MemLayout } from './mem';

function indexMemLayouts(): MemLayout[] {
  const PER_USER = 2;
  const each = (n: number, f: (uid: string, handle: string, createdAt: number) => void) => {
    const rand = prng(31);
    const users: string[] = [];
    const nu = Math.round(n / PER_USER);
    for (let u = 0; u < nu; u++) users.push(flat(`user-${String(u).padStart(10, '0')}`));
    for (let i = 0; i < n; i++) f(users[i % nu], token(rand, 43), CREATED_AT + i);
  };
  /** The trie index as the store builds it, with or without the encoded-key Map beside it. */
  const trieLayout = (n: number, withMap: boolean) => {
    const handles: string[] = [];
    const arrays = new Map<string, EntryState>();
    const root = new KeyIndex();
    const expiry = new ExpiryIndex();
    each(n, (uid, handle, createdAt) => {
      handles.push(handle);
      const now = Date.now();
      const key = Object.freeze(['user', uid, handle]);
      const s = currentState(key, createdAt, now + TTL, nextVersion(now));
      if (withMap) arrays.set(JSON.stringify(key), s);
      root.set(key, s);
      expiry.add(s);
    });
    return withMap ? [handles, arrays, root, expiry] : [handles, root, expiry];
  };
  return [
    {
      name: 'handles only (43 B strings; shared with the record key in SessionCache)',
      build: (n) => {
        const a: string[] = [];
        each(n, (_u, h) => a.push(h));
        return a;
      },
    },
    { name: 'I1 current index entry: frozen key array + EntryState + encoded-key Map + trie leaf + ExpiryIndex', build: (n) => trieLayout(n, true) },
    { name: 'I2 = I1 without the encoded-key Map (trie answers exact lookups too)', build: (n) => trieLayout(n, false) },
    {
      name: 'I3 derived local index Map<userId, Set<handle>> (no index entries)',
      build: (n) => {
        const handles: string[] = [];
        const byUser = new Map<string, Set<string>>();
        each(n, (uid, handle) => {
          handles.push(handle);
          let set = byUser.get(uid);
          if (set === undefined) byUser.set(uid, (set = new Set()));
          set.add(handle);
        });
        return [handles, byUser];
      },
    },
    {
      name: 'I3b derived local index Map<userId, handle or handle[]> (array for 2+)',
      build: (n) => {
        const handles: string[] = [];
        const byUser = new Map<string, string | string[]>();
        each(n, (uid, handle) => {
          handles.push(handle);
          const cur = byUser.get(uid);
          if (cur === undefined) byUser.set(uid, handle);
          else if (typeof cur === 'string') byUser.set(uid, [cur, handle]);
          else cur.push(handle);
        });
        return [handles, byUser];
      },
    },
  ];
}

export async function sectionIndex(): Promise<void> {
  await measure(indexMemLayouts(), N / 2, `### Per-user session index: heap per session, ${(N / 2).toLocaleString('en')} sessions, 2 per user`, 'session');
}
