import { ANY } from '../store/key';
import { localCache } from '../cache/testing/local-cache';
import { ClusterCacheError } from '../errors/cluster-cache.error';
import { LocalSessionLock } from './session-lock.interface';
import { SessionCache } from './session-cache';
import { SessionRevokedError } from './session-revoked.error';
import { newToken } from './session-token';
import { sessionNode as sessions, twoSessionNodes as twoNodes } from './testing/session-nodes';

const MIN = 60_000;

describe('SessionCache', () => {
  it('creates a session with an unguessable token and gets it back', async () => {
    const { sessions: s, clock } = sessions();
    const { token, session } = await s.create('u1', { ip: '10.0.0.1' });
    expect(Buffer.from(token, 'base64url')).toHaveLength(32);
    expect(s.get(token)).toEqual({ handle: session.handle, userId: 'u1', metadata: { ip: '10.0.0.1' }, createdAt: clock.now(), expiresAt: clock.now() + 30 * MIN });
    expect(s.get('nope')).toBeUndefined();
    expect(s.get(token.slice(0, -1) + (token.endsWith('A') ? 'B' : 'A'))).toBeUndefined();
  });

  it('never hands out the same token twice (across refills of the random pool)', async () => {
    const { sessions: s } = sessions();
    const tokens = await Promise.all(Array.from({ length: 300 }, () => s.create('u1').then((c) => c.token)));
    expect(new Set(tokens).size).toBe(300);
    for (const token of tokens) expect(Buffer.from(token, 'base64url')).toHaveLength(32);
  });

  it('stores a hash of the token, never the token', async () => {
    const { sessions: s, table } = sessions();
    const { token } = await s.create('u1', {});
    const dump = JSON.stringify([...table.states()]);
    expect(dump).not.toContain(token);
    expect(dump).toContain(SessionCache.handleOf(token));
  });

  it('expires sessions after the default 30 minutes or a given TTL', async () => {
    const { sessions: s, clock } = sessions();
    const { token } = await s.create('u1');
    const { token: short } = await s.create('u1', {}, { ttl: MIN });
    clock.advance(MIN);
    expect(s.get(short)).toBeUndefined();
    expect(s.get(token)).toBeDefined();
    clock.advance(29 * MIN);
    expect(s.get(token)).toBeUndefined();
    expect(s.list('u1')).toEqual([]);
  });

  it('lists a user\'s sessions oldest first, and only theirs', async () => {
    const { sessions: s, clock } = sessions();
    const first = await s.create('u1', { ip: 'a' });
    clock.advance(10);
    const second = await s.create('u1', { ip: 'b' });
    await s.create('u2', { ip: 'c' });
    await s.create(1, { ip: 'numeric id' });
    expect(s.list('u1').map((x) => x.handle)).toEqual([first.session.handle, second.session.handle]);
    expect(s.list(1)).toHaveLength(1);
    expect(s.list('1')).toHaveLength(0);
  });

  it('deletes a session and its index entry together', async () => {
    const { sessions: s, credentials } = sessions();
    const { token } = await s.create('u1');
    expect(await s.delete(token)).toBe(true);
    expect(s.get(token)).toBeUndefined();
    expect(s.list('u1')).toEqual([]);
    expect(credentials.all(['user', 'u1', ANY])).toEqual([]);
    expect(await s.delete(token)).toBe(false);
  });

  it('revokes every session of a user at once', async () => {
    const { sessions: s } = sessions();
    const tokens = await Promise.all([1, 2, 3].map(() => s.create('u1')));
    const other = await s.create('u2');
    expect(await s.revokeAll('u1')).toBe(3);
    for (const { token } of tokens) expect(s.get(token)).toBeUndefined();
    expect(s.get(other.token)).toBeDefined();
    expect(await s.revokeAll('u1')).toBe(0);
  });

  it('touches a session: same token, fresh expiry', async () => {
    const { sessions: s, clock } = sessions();
    const { token } = await s.create('u1', {}, { ttl: MIN });
    clock.advance(50_000);
    const touched = await s.touch(token);
    expect(touched?.expiresAt).toBe(clock.now() + 30 * MIN);
    clock.advance(MIN);
    expect(s.get(token)).toBeDefined();
    expect(await s.touch('unknown')).toBeUndefined();
  });

  it('rotates a session: new token, same user and metadata; the old token works for the grace period only', async () => {
    const { sessions: s, clock } = sessions();
    const { token, session } = await s.create('u1', { ip: 'x' });
    clock.advance(20 * MIN);
    expect(s.isOlderThan(session, 15 * MIN)).toBe(true);
    const rotated = await s.rotate(token);
    expect(rotated?.rotated).toBe(true);
    expect(rotated!.token).not.toBe(token);
    expect(s.get(rotated!.token)).toMatchObject({ userId: 'u1', metadata: { ip: 'x' }, createdAt: clock.now() });
    // A request already on its way with the old token still gets the (new) session …
    expect(s.get(token)?.handle).toBe(rotated!.session.handle);
    expect(await s.rotate(token)).toMatchObject({ token, rotated: false, session: { handle: rotated!.session.handle } });
    expect(s.list('u1')).toHaveLength(1);
    // … until the grace period ends.
    clock.advance(s.rotationGrace);
    expect(s.get(token)).toBeUndefined();
    expect(await s.rotate(token)).toBeUndefined();
    expect(s.get(rotated!.token)).toBeDefined();
  });

  it('signs out with a token in its rotation grace: the session it was rotated to ends', async () => {
    const { sessions: s } = sessions();
    const { token } = await s.create('u1');
    const rotated = await s.rotate(token);
    expect(await s.delete(token)).toBe(true);
    expect(s.get(rotated!.token)).toBeUndefined();
    expect(s.get(token)).toBeUndefined();
    expect(s.list('u1')).toEqual([]);
  });

  it('rotates once when asked twice at the same time (single flight)', async () => {
    const { sessions: s } = sessions();
    const { token } = await s.create('u1');
    const [a, b] = await Promise.all([s.rotate(token), s.rotate(token)]);
    expect(a).toBe(b);
    expect(s.list('u1')).toHaveLength(1);
  });

  it('keeps the old token when another holder of the lock is rotating it', async () => {
    const local = localCache();
    const lock = { tryWith: async () => ({ acquired: false as const }) };
    const s = new SessionCache(local.cache.namespace('credentials'), lock, 30 * MIN);
    const { token } = await s.create('u1');
    const result = await s.rotate(token);
    expect(result).toMatchObject({ token, rotated: false });
    expect(s.get(token)).toBeDefined();
  });

  it('keeps the old token when another node rotated the session between the lookup and the lock', async () => {
    // Node a rotates while b waits for the lock; a's write reaches b before a releases it (sync writes).
    const nodes = twoNodes();
    const { token } = await nodes.a.sessions.create('u1');
    let winner: Awaited<ReturnType<SessionCache['rotate']>>;
    const lock = {
      async tryWith<T>(_resource: string, fn: () => Promise<T>) {
        winner = await nodes.a.sessions.rotate(token);
        return { acquired: true as const, result: await fn() };
      },
    };
    const b = new SessionCache(nodes.b.credentials, lock, 30 * MIN);
    const result = await b.rotate(token);
    expect(winner!).toMatchObject({ rotated: true });
    expect(result).toEqual({ token, session: winner!.session, rotated: false });
    expect(nodes.b.sessions.list('u1')).toHaveLength(1);
  });

  describe('create racing revokeAll (issue 13, finding 3)', () => {
    it('rejects with SessionRevokedError when a revokeAll of the user ends the session while its write is in flight', async () => {
      const { sessions: s } = sessions();
      const creating = s.create('u1').then(() => 'resolved', (e: unknown) => e);
      expect(await s.revokeAll('u1')).toBe(1);
      const error = await creating;
      expect(error).toBeInstanceOf(SessionRevokedError);
      expect(error).toBeInstanceOf(ClusterCacheError);
      expect((error as SessionRevokedError).userId).toBe('u1');
      expect((error as Error).message).toMatch(/the new session of user "u1" was ended before create\(\) could return it/);
      expect(s.list('u1')).toEqual([]);
    });

    it('lets a create that starts after the revokeAll live, even within the same millisecond', async () => {
      const { sessions: s } = sessions();
      const before = await s.create('u1');
      const revoking = s.revokeAll('u1');
      const after = await s.create('u1');
      expect(await revoking).toBe(1);
      expect(s.get(before.token)).toBeUndefined();
      expect(s.get(after.token)).toEqual(after.session);
      expect(s.list('u1')).toEqual([after.session]);
    });

    it("leaves other users' creates alone", async () => {
      const { sessions: s } = sessions();
      const creating = s.create('u2');
      await s.revokeAll('u1');
      expect(s.get((await creating).token)?.userId).toBe('u2');
    });

    it('a rotation whose write a revokeAll overtook resolves to undefined, not to a dead session', async () => {
      const { sessions: s } = sessions();
      const { token } = await s.create('u1');
      const rotating = s.rotate(token);
      await s.revokeAll('u1');
      expect(await rotating).toBeUndefined();
      expect(s.list('u1')).toEqual([]);
    });
  });

  describe('sign-outs of sessions this node never saw (issue 13, finding 4)', () => {
    it('delete of an unknown token records a tombstone for its handle, kept for the session TTL, and resolves false', async () => {
      const { sessions: s, table, clock } = sessions();
      const token = newToken();
      expect(await s.delete(token)).toBe(false);
      const tombstone = table.current('credentials', SessionCache.handleOf(token));
      expect(tombstone).toMatchObject({ value: undefined, expiresAt: clock.now() + 30 * MIN });
    });

    it('delete of a malformed token writes nothing', async () => {
      const { sessions: s, table } = sessions();
      for (const token of ['', 'short', `${newToken().slice(0, 42)}!`, 42 as unknown as string]) expect(await s.delete(token)).toBe(false);
      expect(table.size).toBe(0);
    });

    it('a known session\'s tombstone also lasts a session TTL from the sign-out (the far side may renew it meanwhile)', async () => {
      const { sessions: s, table, clock } = sessions();
      const { token, session } = await s.create('u1', {}, { ttl: MIN });
      expect(await s.delete(token)).toBe(true);
      expect(table.current('credentials', session.handle)?.expiresAt).toBe(clock.now() + 30 * MIN);
    });

    it('revoke of an unknown handle records a tombstone; a known session of another user stays', async () => {
      const { sessions: s, table, clock } = sessions();
      const handle = SessionCache.handleOf(newToken());
      await s.revoke('u1', handle);
      expect(table.current('credentials', handle)).toMatchObject({ value: undefined, expiresAt: clock.now() + 30 * MIN });
      const other = await s.create('u2');
      await s.revoke('u1', other.session.handle);
      expect(s.get(other.token)).toBeDefined();
      await s.revoke('u1', 'not a handle');
      expect(table.size).toBe(2); // the tombstone and u2's session: nothing for the malformed handle
    });

    it('revoke by the handle of a token in its rotation grace ends the session it was rotated to', async () => {
      const { sessions: s } = sessions();
      const { token, session } = await s.create('u1');
      const rotated = await s.rotate(token);
      await s.revoke('u2', session.handle);
      expect(s.get(rotated!.token)).toBeDefined();
      await s.revoke('u1', session.handle);
      expect(s.get(rotated!.token)).toBeUndefined();
      expect(s.get(token)).toBeUndefined();
    });

    it('a delete or revoke on the side of a split that never saw the session ends it on both sides after the heal', async () => {
      const { a, b, split, heal } = twoNodes();
      split();
      const deleted = await a.sessions.create('ada');
      const revoked = await a.sessions.create('ada');
      const kept = await a.sessions.create('ada');
      expect(await b.sessions.delete(deleted.token)).toBe(false);
      await b.sessions.revoke('ada', revoked.session.handle);
      expect(await a.sessions.touch(deleted.token)).toBeDefined(); // still used on a meanwhile
      heal();
      for (const node of [a, b]) {
        expect(node.sessions.get(deleted.token)).toBeUndefined();
        expect(node.sessions.get(revoked.token)).toBeUndefined();
        expect(node.sessions.list('ada')).toEqual([kept.session]);
      }
    });
  });

  describe('revokeAll across a split (issue 13, finding 4)', () => {
    it('ends the sessions made on the other side before it, on both sides after the heal; later ones live', async () => {
      const { a, b, clock, split, heal } = twoNodes();
      const shared = await a.sessions.create('ada');
      split();
      const farSide = await a.sessions.create('ada', { ip: 'a, during the split' });
      const otherUser = await a.sessions.create('grace');
      clock.advance(1);
      expect(await b.sessions.revokeAll('ada')).toBe(1); // b holds only the shared one
      const signedInAgainOnB = await b.sessions.create('ada');
      clock.advance(1);
      const signedInAgainOnA = await a.sessions.create('ada'); // after the mark by the clock, though a has not seen it
      heal();
      for (const node of [a, b]) {
        expect(node.sessions.get(shared.token)).toBeUndefined();
        expect(node.sessions.get(farSide.token)).toBeUndefined();
        expect(node.sessions.get(otherUser.token)).toBeDefined();
        expect(node.sessions.list('ada').map((x) => x.handle).sort()).toEqual([signedInAgainOnA.session.handle, signedInAgainOnB.session.handle].sort());
      }
      expect(await a.sessions.touch(farSide.token)).toBeUndefined();
      expect(await a.sessions.rotate(farSide.token)).toBeUndefined();
    });

    it('a session rotated or touched on the far side during the split does not escape the mark', async () => {
      const { a, b, clock, split, heal } = twoNodes();
      const rotatedThere = await a.sessions.create('ada');
      const touchedThere = await a.sessions.create('ada');
      split();
      expect(await b.sessions.revokeAll('ada')).toBe(2);
      clock.advance(5 * MIN);
      const rotation = await a.sessions.rotate(rotatedThere.token); // a new key, made after the mark …
      expect(rotation?.rotated).toBe(true);
      expect(await a.sessions.touch(touchedThere.token)).toBeDefined();
      heal();
      for (const node of [a, b]) {
        expect(node.sessions.get(rotation!.token)).toBeUndefined(); // … but of a sign-in before it
        expect(node.sessions.get(touchedThere.token)).toBeUndefined();
        expect(node.sessions.list('ada')).toEqual([]);
      }
    });

    it('keeps working with session records stored without the sign-in version (earlier builds)', async () => {
      const { sessions: s, engine, table, clock } = sessions();
      const token = newToken();
      const handle = SessionCache.handleOf(token);
      const record = { ns: 'credentials', key: handle, value: { userId: 'u1', metadata: {}, createdAt: clock.now() }, expiresAt: clock.now() + MIN, version: 0, seen: 0, origin: 'old@127.0.0.1' };
      record.version = engine.store.hlc.next();
      engine.merge(table, [record]);
      expect(s.get(token)?.userId).toBe('u1');
      expect((await s.touch(token))?.userId).toBe('u1');
      const rotated = await s.rotate(token);
      expect(s.get(rotated!.token)?.userId).toBe('u1');
      expect(await s.revokeAll('u1')).toBe(1);
      expect(s.get(rotated!.token)).toBeUndefined();
    });
  });
});
