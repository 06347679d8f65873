import type { EntryState } from './entry';
import { ANY } from './key';
import { KeyIndex } from './key-index';

const state = (key: (string | number)[]): EntryState => ({ ns: 'n', key, value: 1, expiresAt: 1, version: 1, seen: 0, origin: 'a' });

describe('KeyIndex', () => {
  it('matches exactly the pattern length, ANY standing for one element', () => {
    const index = new KeyIndex();
    for (const key of [['u', 1], ['u', 1, 's', 'x'], ['u', 1, 's', 'y'], ['u', 2, 's', 'z'], ['v', 1]]) index.set(key, state(key));
    const keys = (pattern: (string | number | typeof ANY)[]) => index.match(pattern).map((s) => s.key);
    expect(keys(['u', 1, 's', ANY])).toEqual(expect.arrayContaining([['u', 1, 's', 'x'], ['u', 1, 's', 'y']]));
    expect(keys(['u', 1, 's', ANY])).toHaveLength(2);
    expect(keys(['u', ANY])).toEqual([['u', 1]]);
    expect(keys([ANY, 1])).toEqual(expect.arrayContaining([['u', 1], ['v', 1]]));
    expect(keys(['u', ANY, 's', ANY])).toHaveLength(3);
    expect(keys(['w', ANY])).toEqual([]);
  });

  it('prunes empty branches on delete', () => {
    const index = new KeyIndex();
    index.set(['u', 1, 'x'], state(['u', 1, 'x']));
    index.set(['u', 1], state(['u', 1]));
    index.delete(['u', 1, 'x']);
    expect(index.match(['u', 1, ANY])).toEqual([]);
    expect(index.match(['u', ANY])).toHaveLength(1);
    index.delete(['u', 1]);
    expect(index.match([ANY, ANY])).toEqual([]);
    expect((index as unknown as { root: { children: Map<unknown, unknown> } }).root.children.size).toBe(0);
  });
});
