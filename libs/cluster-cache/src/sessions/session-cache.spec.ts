import { ANY } from '../store/key';
import { localCache } from '../cache/testing/local-cache';
import { LocalSessionLock } from './session-lock.interface';
import { SessionCache } from './session-cache';

const MIN = 60_000;

function sessions() {
  const local = localCache();
  const cache = local.cache.namespace('credentials');
  return { ...local, credentials: cache, sessions: new SessionCache<{ ip?: string }>(cache, new LocalSessionLock(), 30 * MIN) };
}

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
});
