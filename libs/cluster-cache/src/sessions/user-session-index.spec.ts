import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { localCache } from '../cache/testing/local-cache';
import { LmdbPersistenceDirectory } from '../persistence/lmdb.persistence';
import { ManualClock } from '../store/clock';
import { LocalSessionLock } from './session-lock.interface';
import { SessionCache } from './session-cache';
import type { EntryState } from '../store/entry';
import { RestingState } from '../store/compact/resting-state';
import { EncodedValue } from '../values/encoded-value';
import { encodeValue } from '../values/value-codec';

const MIN = 60_000;

/** One node: a session cache over the 'credentials' namespace of a replicated table. */
function node(name: string, clock: ManualClock) {
  const local = localCache({ node: name, clock });
  const sessions = new SessionCache(local.cache.namespace('credentials'), new LocalSessionLock(), 30 * MIN);
  return { ...local, sessions };
}

const handles = (s: SessionCache, userId: string | number) => s.list(userId).map((x) => x.handle);

describe('SessionCache per-user index (derived locally from the session records)', () => {
  it('writes no index entries: one record per session', async () => {
    const { sessions, table } = node('a@127.0.0.1', new ManualClock());
    await sessions.create('u1');
    await sessions.create('u1');
    expect(table.size).toBe(2);
    expect([...table.states()].every((s) => typeof s.key === 'string')).toBe(true);
  });

  it('follows records merged from another node: creates, rotations, sign-outs and revokeAll', async () => {
    const clock = new ManualClock();
    const a = node('a@127.0.0.1', clock);
    const b = node('b@127.0.0.1', clock);
    // Replicate every state a writes to b, as the mesh does.
    a.engine.tap((table, states) => b.engine.merge(b.table, states));
    const one = await a.sessions.create('u1');
    clock.advance(1);
    const two = await a.sessions.create('u1');
    await a.sessions.create('u2');
    expect(handles(b.sessions, 'u1')).toEqual([one.session.handle, two.session.handle]);

    const rotated = await a.sessions.rotate(one.token);
    expect(handles(b.sessions, 'u1').sort()).toEqual([rotated!.session.handle, two.session.handle].sort());

    await a.sessions.delete(two.token);
    expect(handles(b.sessions, 'u1')).toEqual([rotated!.session.handle]);

    expect(await a.sessions.revokeAll('u1')).toBe(1);
    expect(b.sessions.list('u1')).toEqual([]);
    expect(handles(b.sessions, 'u2')).toHaveLength(1);
  });

  it('revokeAll on one node ends sessions another node created (one atomic write)', async () => {
    const clock = new ManualClock();
    const a = node('a@127.0.0.1', clock);
    const b = node('b@127.0.0.1', clock);
    a.engine.tap((table, states) => b.engine.merge(b.table, states));
    const writes: number[] = [];
    b.engine.tap((table, states) => writes.push(states.length));
    const tokens = await Promise.all([1, 2, 3].map(() => a.sessions.create('u1')));
    writes.length = 0;
    expect(await b.sessions.revokeAll('u1')).toBe(3);
    expect(writes).toEqual([4]); // the three deletes and the mark
    for (const { token } of tokens) expect(b.sessions.get(token)).toBeUndefined();
  });

  it('a merge that loses changes nothing; one that wins over a record moves the handle', async () => {
    const clock = new ManualClock();
    const a = node('a@127.0.0.1', clock);
    const b = node('b@127.0.0.1', clock);
    const { session } = await a.sessions.create('u1');
    const record = a.table.current('credentials', session.handle)!;
    b.engine.merge(b.table, [record]);
    b.engine.merge(b.table, [record]); // the same state again (a resend): no duplicate
    expect(handles(b.sessions, 'u1')).toEqual([session.handle]);
    // A newer delete from a third node wins.
    await a.sessions.revoke('u1', session.handle);
    b.engine.merge(b.table, [a.table.current('credentials', session.handle)!]);
    expect(b.sessions.list('u1')).toEqual([]);
    // The older record arriving late loses against the tombstone.
    b.engine.merge(b.table, [record]);
    expect(b.sessions.list('u1')).toEqual([]);
  });

  it('drops expired sessions from the list at once, and from the index at the sweep', async () => {
    const { sessions, engine, clock } = node('a@127.0.0.1', new ManualClock());
    await sessions.create('u1', {}, { ttl: MIN });
    const long = await sessions.create('u1');
    clock.advance(MIN);
    expect(handles(sessions, 'u1')).toEqual([long.session.handle]);
    clock.advance(1000);
    engine.sweep();
    expect((sessions as unknown as { byUser: { handles(u: string): readonly string[] } }).byUser.handles('u1')).toEqual([long.session.handle]);
  });

  it('is rebuilt exactly after a flush and reload (a heal)', async () => {
    const clock = new ManualClock();
    const a = node('a@127.0.0.1', clock);
    const b = node('b@127.0.0.1', clock);
    await b.sessions.create('stale'); // only on b: the heal replaces it
    const one = await a.sessions.create('u1');
    await b.engine.replace(b.table, [...a.table.states()], []);
    expect(b.sessions.list('stale')).toEqual([]);
    expect(handles(b.sessions, 'u1')).toEqual([one.session.handle]);
  });

  it('indexes what was there before the session cache was made', async () => {
    const clock = new ManualClock();
    const a = node('a@127.0.0.1', clock);
    const { session } = await a.sessions.create('u1');
    const later = new SessionCache(a.cache.namespace('credentials'), new LocalSessionLock(), 30 * MIN);
    expect(handles(later, 'u1')).toEqual([session.handle]);
  });

  it('is rebuilt after a restart from disk', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cc-user-index-'));
    const logger = { log: jest.fn(), warn: jest.fn() };
    try {
      const clock = new ManualClock();
      const before = node('a@127.0.0.1', clock);
      let directory = await LmdbPersistenceDirectory.open(dir, logger);
      before.engine.persist(before.table, await directory.table('sessions'));
      const kept = await before.sessions.create('u1');
      const gone = await before.sessions.create('u1');
      const moved = await before.sessions.rotate(gone.token);
      await directory.close();

      const after = node('a@127.0.0.1', clock);
      directory = await LmdbPersistenceDirectory.open(dir, logger);
      after.engine.persist(after.table, await directory.table('sessions'));
      await after.engine.loadPersisted();
      expect(handles(after.sessions, 'u1').sort()).toEqual([kept.session.handle, moved!.session.handle].sort());
      await directory.close();
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('holds many sessions of one user and forgets each exactly once', async () => {
    const { sessions } = node('a@127.0.0.1', new ManualClock());
    const made = await Promise.all(Array.from({ length: 20 }, () => sessions.create(7)));
    for (const { token } of made.slice(0, 15)) await sessions.delete(token);
    expect(handles(sessions, 7).sort()).toEqual(made.slice(15).map((m) => m.session.handle).sort());
    expect(await sessions.revokeAll(7)).toBe(5);
    expect(sessions.list(7)).toEqual([]);
  });
});

describe('SessionCache per-user index over records at rest (merged as bytes, never read)', () => {
  /** The states of `from`'s table as a peer sends them: values as their bytes. */
  function asBytes(states: Iterable<EntryState>): EntryState[] {
    return [...states].map((state) => {
      if (state.value === undefined) return state;
      const bytes = encodeValue(state.value);
      return { ...state, value: new EncodedValue(bytes, 0, bytes.length) };
    });
  }
  const index = (s: SessionCache) => (s as unknown as { byUser: { restingByUser: Map<number, unknown>; byUser: Map<unknown, unknown>; handles(u: string | number): readonly string[] } }).byUser;
  // The index's own answer: `list` reads every session it returns (which wakes them).
  const listed = (s: SessionCache, userId: string | number) => [...index(s).handles(userId)].sort();

  it('lists resting sessions by hashes only, finds them through the resting index, and moves them to strings on their first read', async () => {
    const clock = new ManualClock();
    const a = node('a@127.0.0.1', clock);
    const b = node('b@127.0.0.1', clock);
    const made = [];
    for (let i = 0; i < 40; i++) made.push(await a.sessions.create(`u${i % 10}`, { i }));
    made.push(await a.sessions.create(7));
    made.push(await a.sessions.create('7'));
    b.engine.merge(b.table, asBytes(a.table.states()));
    expect(b.table.current('credentials', made[0].session.handle)).toBeInstanceOf(RestingState);
    // No handle strings for resting records: hashes under user hashes.
    expect(index(b.sessions).byUser.size).toBe(0);
    expect(index(b.sessions).restingByUser.size).toBe(12);
    for (let u = 0; u < 10; u++) {
      const expected = made.filter((m) => m.session.userId === `u${u}`).map((m) => m.session.handle);
      expect(listed(b.sessions, `u${u}`)).toEqual(expected.sort());
    }
    // A number and a string that print alike are different users.
    expect(listed(b.sessions, 7)).toEqual([made[40].session.handle]);
    expect(listed(b.sessions, '7')).toEqual([made[41].session.handle]);
    expect(b.table.current('credentials', made[0].session.handle)).toBeInstanceOf(RestingState);
    // A first read wakes the record: its handle is listed as a string from then on, once.
    expect(b.sessions.get(made[0].token)?.userId).toBe('u0');
    expect(index(b.sessions).byUser.get('u0')).toBe(made[0].session.handle);
    expect(listed(b.sessions, 'u0')).toEqual(made.filter((m) => m.session.userId === 'u0').map((m) => m.session.handle).sort());
    expect(handles(b.sessions, 'u0').sort()).toEqual(listed(b.sessions, 'u0'));
    // Sign-outs and revokeAll from the other node reach resting records too.
    a.engine.tap((table, states) => b.engine.merge(b.table, asBytes(states)));
    await a.sessions.delete(made[1].token);
    expect(listed(b.sessions, 'u1')).toEqual(made.filter((m, i) => m.session.userId === 'u1' && i !== 1).map((m) => m.session.handle).sort());
    expect(await b.sessions.revokeAll('u2')).toBe(4);
    expect(b.sessions.list('u2')).toEqual([]);
    // Expired and swept: gone from both lists.
    clock.advance(31 * MIN);
    b.engine.sweep();
    expect(index(b.sessions).restingByUser.size).toBe(0);
    expect(index(b.sessions).byUser.size).toBe(0);
  });
});
