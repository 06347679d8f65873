import { NamespaceKeys, SessionKeys } from './redis-keys';

describe('NamespaceKeys', () => {
  const keys = new NamespaceKeys('ncc:', 'sessions', 'cache');

  it('puts every key of a namespace under one hash tag, whatever the names contain', () => {
    const odd = new NamespaceKeys('p:', 'ta}ble', '{ns}');
    for (const k of [odd.index, odd.expiry, odd.entry(['a', 1]).toString('latin1')]) {
      expect(k.slice(k.indexOf('{') + 1, k.indexOf('}'))).toBe('ta%7Dble/%7Bns%7D');
    }
  });

  it('bounds a range so that it holds exactly the keys that start with the given elements', () => {
    const [min, max] = keys.range(['user', 1]) as [Buffer, Buffer];
    const inRange = (key: Parameters<NamespaceKeys['member']>[0]) => {
      const member = keys.member(key);
      return Buffer.compare(member, min.subarray(1)) >= 0 && Buffer.compare(member, max.subarray(1)) < 0;
    };
    expect(inRange(['user', 1])).toBe(true);
    expect(inRange(['user', 1, 'a'])).toBe(true);
    expect(inRange(['user', 1, 99, 'deep'])).toBe(true);
    expect(inRange(['user', 10])).toBe(false);
    expect(inRange(['user', '1'])).toBe(false);
    expect(inRange(['user'])).toBe(false);
    expect(inRange(['users', 1])).toBe(false);
    expect(keys.range([])).toEqual(['-', '+']);
  });
});

describe('SessionKeys', () => {
  it('puts a user’s sessions and index under one short tag, and users under different ones', () => {
    const keys = new SessionKeys('ncc:', 'sessions', 'credentials');
    const tag = SessionKeys.tagOf('"ada"');
    expect(tag).toMatch(/^[A-Za-z0-9_-]{4}$/);
    expect(keys.session(tag, 'h')).toBe(`ncc:{sessions/credentials/${tag}}s:h`);
    expect(keys.user(tag, '"ada"')).toBe(`ncc:{sessions/credentials/${tag}}u:"ada"`);
    expect(SessionKeys.tagOf('1')).not.toBe(SessionKeys.tagOf('"1"'));
  });
});
