import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { LmdbPersistenceDirectory } from '../persistence/lmdb.persistence';
import { ManualClock } from '../store/clock';
import type { EntryState } from '../store/entry';
import { markKey, RevocationMarks } from './revocation-marks';
import { SESSION_TTL, sessionNode, twoSessionNodes } from './testing/session-nodes';

const MIN = 60_000;

function state(key: EntryState['key'], value: unknown, version: number): EntryState {
  return { ns: 'credentials', key, value, expiresAt: Date.UTC(2030, 0, 1), version, seen: 0, origin: 'a@127.0.0.1' };
}

describe('RevocationMarks', () => {
  it("follows the marks among a namespace's states, and nothing else", () => {
    const marks = new RevocationMarks();
    const first = state(markKey('ada'), 1, 10);
    marks.installed(first);
    marks.installed(state('some-handle', { userId: 'ada' }, 11)); // a session record
    marks.installed(state(['user', 'ada', 'some-handle'], 1, 12)); // an index entry of earlier builds
    expect(marks.size).toBe(1);
    expect(marks.of('ada')).toBe(first);

    const later = state(markKey('ada'), 2, 20);
    marks.installed(later);
    marks.removed(first); // an older state of the key, swept late: not the mark any more
    expect(marks.of('ada')).toBe(later);
    marks.removed(later);
    expect(marks.size).toBe(0);

    marks.installed(state(markKey(7), 1, 30));
    marks.installed(state(markKey(7), undefined, 31)); // deleted by hand
    expect(marks.of(7)).toBeUndefined();
    marks.installed(state(markKey('grace'), 1, 40));
    marks.cleared();
    expect(marks.size).toBe(0);
  });

  it('keeps 1 and "1" apart', () => {
    const marks = new RevocationMarks();
    marks.installed(state(markKey(1), 1, 10));
    expect(marks.of('1')).toBeUndefined();
    expect(marks.of(1)).toBeDefined();
  });
});

describe('revokeAll marks', () => {
  it('are written with the deletes, in one write with one version', async () => {
    const { sessions, engine, table } = sessionNode();
    await sessions.create('ada');
    const written: EntryState[][] = [];
    engine.tap((_, states) => written.push([...states]));
    await sessions.revokeAll('ada');
    expect(written).toHaveLength(1);
    expect(new Set(written[0].map((s) => s.version)).size).toBe(1);
    expect(table.current('credentials', markKey('ada'))?.version).toBe(written[0][0].version);
  });

  it('last a session TTL, or until the latest expiry among the sessions of the user held here', async () => {
    const { sessions, clock, table } = sessionNode();
    await sessions.revokeAll('ada'); // no session here: still marked, for sessions on the far side of a split
    expect(table.current('credentials', markKey('ada'))?.expiresAt).toBe(clock.now() + SESSION_TTL);
    await sessions.create('grace', {}, { ttl: 120 * MIN });
    await sessions.revokeAll('grace');
    expect(table.current('credentials', markKey('grace'))?.expiresAt).toBe(clock.now() + 120 * MIN);
  });

  it('one per user: a later revokeAll replaces the mark, never with an earlier expiry', async () => {
    const { sessions, clock, table } = sessionNode();
    await sessions.create('ada', {}, { ttl: 120 * MIN });
    await sessions.revokeAll('ada');
    const first = table.current('credentials', markKey('ada'))!;
    clock.advance(MIN);
    await sessions.revokeAll('ada');
    const second = table.current('credentials', markKey('ada'))!;
    expect(second.version).toBeGreaterThan(first.version);
    expect(second.expiresAt).toBe(first.expiresAt);
    expect([...table.states()].filter((s) => typeof s.key === 'object')).toHaveLength(1);
  });

  it('expire, and are swept: nothing of a revokeAll is left after it can no longer matter', async () => {
    const { sessions, clock, engine, table } = sessionNode();
    const { token } = await sessions.create('ada');
    await sessions.revokeAll('ada');
    clock.advance(SESSION_TTL - 1);
    engine.sweep();
    expect(table.current('credentials', markKey('ada'))).toBeDefined();
    expect(sessions.get(token)).toBeUndefined();
    clock.advance(2000); // past the expiry index's one-second bucket
    engine.sweep();
    expect(table.size).toBe(0); // neither the mark nor the tombstone
    const after = await sessions.create('ada');
    expect(sessions.get(after.token)).toBeDefined();
  });

  it('from two sides of a split merge to the later one, on both sides', async () => {
    const { a, b, clock, split, heal } = twoSessionNodes();
    split();
    const early = await a.sessions.create('ada');
    clock.advance(1);
    await a.sessions.revokeAll('ada');
    clock.advance(1);
    const between = await a.sessions.create('ada'); // after a's mark, before b's
    clock.advance(1);
    await b.sessions.revokeAll('ada');
    clock.advance(1);
    const late = await a.sessions.create('ada');
    heal();
    const marks = [a, b].map((node) => node.table.current('credentials', markKey('ada'))!);
    expect(marks[0].origin).toBe('b@127.0.0.1');
    expect(marks[1]).toEqual(marks[0]);
    for (const node of [a, b]) {
      expect(node.sessions.get(early.token)).toBeUndefined();
      expect(node.sessions.get(between.token)).toBeUndefined();
      expect(node.sessions.list('ada')).toEqual([late.session]);
    }
  });

  it('a mark that expired ends nothing, swept or not (every node reads alike)', async () => {
    const { a, b, clock, split, heal } = twoSessionNodes();
    split();
    const long = await a.sessions.create('ada', {}, { ttl: 120 * MIN }); // b never hears of it
    clock.advance(1);
    await b.sessions.revokeAll('ada');
    clock.advance(SESSION_TTL);
    heal(); // a split longer than the session TTL: the mark is over (a limit, see docs/design.md)
    expect(b.table.current('credentials', markKey('ada'))).toBeDefined(); // not swept yet on b …
    expect(b.sessions.get(long.token)).toBeDefined(); // … but expired: the same answer as on a
    expect(a.sessions.get(long.token)).toBeDefined();
  });

  it('survive a restart from the disk copy', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cc-marks-'));
    const logger = { log: jest.fn(), warn: jest.fn() };
    try {
      const { a, b, clock, split } = twoSessionNodes();
      split();
      const farSide = await a.sessions.create('ada'); // b never hears of it before its restart
      clock.advance(1);
      let directory = await LmdbPersistenceDirectory.open(dir, logger);
      b.engine.persist(b.table, await directory.table('sessions'));
      await b.sessions.revokeAll('ada');
      await directory.close();

      const restarted = sessionNode({ node: 'b@127.0.0.1', clock: new ManualClock(clock.now()) });
      directory = await LmdbPersistenceDirectory.open(dir, logger);
      restarted.engine.persist(restarted.table, await directory.table('sessions'));
      await restarted.engine.loadPersisted();
      restarted.engine.merge(restarted.table, [...a.table.states()].map((s) => ({ ...s })));
      expect(restarted.sessions.get(farSide.token)).toBeUndefined();
      await directory.close();
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
