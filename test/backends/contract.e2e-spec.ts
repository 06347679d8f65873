/**
 * One contract, three backends: every spec here runs against two mesh nodes,
 * two app nodes on one Redis server, and two app nodes on a 3-master Redis
 * Cluster — all real (TCP between mesh nodes, redis-server processes started
 * here). Node `a` writes, node `b` reads, and the other way round.
 */
import { randomUUID } from 'node:crypto';
import { ANY, CacheStore, InvalidArgumentError, IssuedSession, SessionRevokedError } from '@app/cluster-cache';
import { readProblems, REFUSED_CASES, VALUE_CASES } from '@app/cluster-cache/values/testing/value-set';
import { waitFor } from '../utils/wait-for';
import { BackendUnderTest, startMesh, startRedisClusterBackend, startSingleRedis } from './backends';

const backends: Array<[string, () => Promise<BackendUnderTest>]> = [
  ['mesh', startMesh],
  ['redis (one server)', startSingleRedis],
  ['redis (cluster)', startRedisClusterBackend],
];

describe.each(backends)('the cache and session contract on %s', (_, start) => {
  let backend: BackendUnderTest;
  /** A namespace no other spec uses, with a default TTL. */
  let ns: (node: 'a' | 'b', ttl?: number) => CacheStore;

  beforeAll(async () => {
    backend = await start();
  }, 60_000);
  afterAll(() => backend?.stop());

  beforeEach(() => {
    const name = `ns-${randomUUID()}`;
    ns = (node, ttl = 600_000) => backend[node].cache.namespace(name, { ttl });
  });

  describe('CacheStore', () => {
    it('reads on one node what another wrote, frozen, with its expiry', async () => {
      const before = Date.now();
      await ns('a').put(['user', 1], { name: 'Ada', roles: ['admin'] }, { ttl: 60_000 });
      const value = (await ns('b').get(['user', 1])) as { name: string; roles: string[] };
      expect(value).toEqual({ name: 'Ada', roles: ['admin'] });
      expect(Object.isFrozen(value) && Object.isFrozen(value.roles)).toBe(true);
      const expiresAt = await ns('b').expiresAt(['user', 1]);
      expect(expiresAt).toBeGreaterThanOrEqual(before + 60_000);
      expect(expiresAt).toBeLessThanOrEqual(Date.now() + 60_000 + 1);
      expect(await ns('b').get(['user', 2])).toBeUndefined();
      expect(await ns('b').expiresAt(['user', 2])).toBeUndefined();
    });

    it('treats a one-element array key as its element, and keeps 1 and "1" apart', async () => {
      await ns('a').putMany([
        ['k', 'scalar'],
        [['n', 1], 'number'],
        [['n', '1'], 'string'],
      ]);
      expect(await ns('b').get(['k'])).toBe('scalar');
      expect(await ns('b').get(['n', 1])).toBe('number');
      expect(await ns('b').get(['n', '1'])).toBe('string');
    });

    it('lets entries expire by their TTL', async () => {
      await ns('a').put('short', 1, { ttl: 300 });
      await ns('a').put('long', 2);
      expect(await ns('b').get('short')).toBe(1);
      await waitFor(async () => (await ns('b').get('short')) === undefined, 5_000, 'the entry to expire');
      expect(await ns('b').all(ANY)).toEqual([['long', 2]]);
    });

    it('deletes everywhere, one key or several at once', async () => {
      await ns('a').putMany([['x', 1], ['y', 2], ['z', 3]]);
      await ns('b').delete('x');
      expect(await ns('a').get('x')).toBeUndefined();
      await ns('b').deleteMany(['y', 'z', 'never-there']);
      expect(await ns('a').all(ANY)).toEqual([]);
    });

    it('refuses bad input with InvalidArgumentError and writes nothing', async () => {
      const noTtl = backend.a.cache.namespace(`no-ttl-${randomUUID()}`);
      await expect(noTtl.put('k', 1)).rejects.toThrow(/no TTL/);
      await expect(ns('a').putMany([['ok', 1], [{} as never, 2]])).rejects.toBeInstanceOf(InvalidArgumentError);
      await expect(ns('a').putMany([['ok', 1], ['bad', undefined]])).rejects.toBeInstanceOf(InvalidArgumentError);
      await expect(ns('a').put('f', (() => 1) as never)).rejects.toBeInstanceOf(InvalidArgumentError);
      await expect(ns('a').putMany([])).rejects.toBeInstanceOf(InvalidArgumentError);
      await expect(ns('a').put('k', 1, { ttl: -5 })).rejects.toBeInstanceOf(InvalidArgumentError);
      await expect(Promise.resolve().then(() => ns('a').all([] as never))).rejects.toBeInstanceOf(InvalidArgumentError);
      expect(await ns('b').get('ok')).toBeUndefined();
    });

    it('finds entries by pattern, ANY matching exactly one element, sorted by key', async () => {
      await ns('a').putMany([
        [['user', 2, 'a'], 'u2a'],
        [['user', 1, 'b'], 'u1b'],
        [['user', 1, 'a'], 'u1a'],
        [['user', 'x', 'a'], 'uxa'],
        [['user', 1, 'a', 'deep'], 'deeper'],
        [['other', 1, 'a'], 'o1a'],
        ['scalar', 's'],
        [['user', 1], 'short'],
      ]);
      const keys = async (pattern: Parameters<CacheStore['all']>[0]) => (await ns('b').all(pattern)).map(([key]) => key);
      expect(await keys(['user', ANY, 'a'])).toEqual([['user', 1, 'a'], ['user', 2, 'a'], ['user', 'x', 'a']]);
      expect(await keys(['user', 1, ANY])).toEqual([['user', 1, 'a'], ['user', 1, 'b']]);
      expect(await keys([ANY, 1, 'a'])).toEqual([['other', 1, 'a'], ['user', 1, 'a']]);
      expect(await keys(['user', ANY])).toEqual([['user', 1]]);
      expect(await keys(ANY)).toEqual(['scalar']);
      expect(await keys(['user', 1, 'a'])).toEqual([['user', 1, 'a']]);
      expect(await ns('b').all(['user', 2, ANY])).toEqual([[['user', 2, 'a'], 'u2a']]);
    });

    it('keeps namespaces apart', async () => {
      const other = backend.b.cache.namespace(`other-${randomUUID()}`, { ttl: 60_000 });
      await ns('a').put('shared-key', 'mine');
      await other.put('shared-key', 'theirs');
      expect(await ns('b').get('shared-key')).toBe('mine');
      expect(await other.all(ANY)).toEqual([['shared-key', 'theirs']]);
    });

    it('applies putMany and write atomically: a reader sees all of a batch or none of it', async () => {
      const batch = Array.from({ length: 50 }, (_, i) => [['batch', i], i] as const);
      const seen = new Set<number>();
      let reading = true;
      const reader = (async () => {
        while (reading) {
          seen.add((await ns('b').all(['batch', ANY])).length);
          // The mesh answers synchronously: let the event loop (and the write) run between reads.
          await new Promise((resolve) => setImmediate(resolve));
        }
      })();
      await ns('a').putMany(batch);
      await waitFor(async () => (await ns('b').all(['batch', ANY])).length === 50, 5_000, 'the batch on b');
      await ns('a').write({ put: [[['moved', 1], 'here']], delete: batch.map(([key]) => key) });
      await waitFor(async () => (await ns('b').all(['batch', ANY])).length === 0, 5_000, 'the move on b');
      reading = false;
      await reader;
      expect([...seen].every((n) => n === 0 || n === 50)).toBe(true);
      expect(await ns('b').get(['moved', 1])).toBe('here');
    });
  });

  describe('values (the same allowed types on every backend)', () => {
    it('gives back every allowed value on the other node exactly: frozen, binaries as Uint8Array, Uint8Array and Date as copies', async () => {
      for (const c of VALUE_CASES) await ns('a').put(['value', c.name], c.input() as never);
      await ns('b').putMany(VALUE_CASES.map((c): [string[], never] => [['again', c.name], c.input() as never]));
      const problems: string[] = [];
      for (const c of VALUE_CASES) {
        for (const [node, prefix] of [['b', 'value'], ['a', 'again']] as const) {
          for (const problem of await readProblems(() => ns(node).get([prefix, c.name]), (c.expected ?? c.input)())) problems.push(`${c.name} (${prefix} on ${node}): ${problem}`);
        }
      }
      expect(problems).toEqual([]);
      const found = await ns('b').all(['value', 'a Date']);
      expect(found).toEqual([[['value', 'a Date'], new Date(1_700_000_000_123)]]);
    }, 60_000);

    it('refuses at the put, naming the key, a value that cannot be encoded or is larger than MAX_VALUE_BYTES', async () => {
      for (const c of REFUSED_CASES) {
        const put = ns('a').put(['refused', c.name], c.input() as never);
        await expect(put).rejects.toBeInstanceOf(InvalidArgumentError);
        await expect(put).rejects.toThrow(`the value for key ["refused","${c.name}"]`);
        await expect(put).rejects.toThrow(c.message);
        expect(await ns('b').get(['refused', c.name])).toBeUndefined();
      }
      await expect(ns('a').putMany([['fine', 1], ['cyclic', REFUSED_CASES[0].input() as never]])).rejects.toThrow(/cyclic/);
      expect(await ns('b').get('fine')).toBeUndefined();
    }, 60_000);

    it('gives back session metadata with a Date and bytes exactly, as copies', async () => {
      const metadata = { signedInAt: new Date(1_700_000_000_000), device: new Uint8Array([1, 2, 3]), tags: ['a'] };
      const { token } = await backend.a.sessions.create(`user-${randomUUID()}`, metadata);
      const problems = await readProblems(async () => (await backend.b.sessions.get(token))?.metadata, metadata);
      expect(problems).toEqual([]);
    });
  });

  describe('SessionStore', () => {
    const user = () => `user-${randomUUID()}`;

    it('signs in on one node and is signed in on the other; the token is never stored', async () => {
      const id = user();
      const { token, session } = await backend.a.sessions.create(id, { device: 'phone' });
      const seen = await backend.b.sessions.get(token);
      expect(seen).toEqual(session);
      expect(seen).toMatchObject({ userId: id, metadata: { device: 'phone' } });
      expect(session.handle).not.toContain(token);
      expect(session.expiresAt - session.createdAt).toBe(600_000);
      expect(await backend.b.sessions.byHandle(session.handle)).toEqual(session);
      expect(await backend.b.sessions.get('not-a-token')).toBeUndefined();
      expect(await backend.b.sessions.get(token.slice(0, -1) + (token.endsWith('A') ? 'B' : 'A'))).toBeUndefined();
    });

    it('serves many users at once (their sessions spread over the backend)', async () => {
      const ids = Array.from({ length: 200 }, user);
      const issued = await Promise.all(ids.map((id) => backend.a.sessions.create(id)));
      const seen = await Promise.all(issued.map(({ token }) => backend.b.sessions.get(token)));
      expect(seen.map((s) => s?.userId)).toEqual(ids);
      expect(await Promise.all(ids.map((id) => backend.b.sessions.revokeAll(id)))).toEqual(ids.map(() => 1));
    });

    it('keeps numeric and string user ids apart', async () => {
      const n = Math.floor(Math.random() * 1e9);
      await backend.a.sessions.create(n);
      await backend.a.sessions.create(String(n));
      expect((await backend.b.sessions.list(n)).map((s) => s.userId)).toEqual([n]);
      expect((await backend.b.sessions.list(String(n))).map((s) => s.userId)).toEqual([String(n)]);
    });

    it('signs out everywhere: delete on one node, gone on the other', async () => {
      const { token } = await backend.a.sessions.create(user());
      expect(await backend.b.sessions.delete(token)).toBe(true);
      expect(await backend.a.sessions.get(token)).toBeUndefined();
      expect(await backend.a.sessions.delete(token)).toBe(false);
    });

    it('touches a session: a new expiry seen everywhere, same token', async () => {
      const { token, session } = await backend.a.sessions.create(user(), {}, { ttl: 60_000 });
      const touched = await backend.b.sessions.touch(token, { ttl: 120_000 });
      expect(touched?.handle).toBe(session.handle);
      expect(touched!.expiresAt).toBeGreaterThan(session.expiresAt);
      expect((await backend.a.sessions.get(token))?.expiresAt).toBe(touched!.expiresAt);
      expect(await backend.a.sessions.touch('x'.repeat(43))).toBeUndefined();
    });

    it('lists a user’s sessions oldest first, revokes one, revokes all', async () => {
      const id = user();
      // Sessions order by their creation time in ms: one ms apart each.
      const nextMs = async () => {
        const now = Date.now();
        await waitFor(() => Date.now() > now, 1_000, 'the next millisecond');
      };
      const first = await backend.a.sessions.create(id, { n: 1 });
      await nextMs();
      const second = await backend.b.sessions.create(id, { n: 2 });
      await nextMs();
      const third = await backend.a.sessions.create(id, { n: 3 });
      expect((await backend.b.sessions.list(id)).map((s) => s.metadata)).toEqual([{ n: 1 }, { n: 2 }, { n: 3 }]);
      await backend.b.sessions.revoke(id, second.session.handle);
      expect(await backend.a.sessions.get(second.token)).toBeUndefined();
      expect((await backend.a.sessions.list(id)).map((s) => s.handle)).toEqual([first.session.handle, third.session.handle]);
      expect(await backend.b.sessions.revokeAll(id)).toBe(2);
      expect(await backend.a.sessions.get(first.token)).toBeUndefined();
      expect(await backend.a.sessions.get(third.token)).toBeUndefined();
      expect(await backend.a.sessions.list(id)).toEqual([]);
      expect(await backend.a.sessions.revokeAll(id)).toBe(0);
    });

    it('does not revoke a session by handle for another user', async () => {
      const { token, session } = await backend.a.sessions.create(user());
      await backend.b.sessions.revoke(user(), session.handle);
      expect(await backend.a.sessions.get(token)).toBeDefined();
    });

    it('lets sessions expire, and drops them from the list', async () => {
      const id = user();
      const { token } = await backend.a.sessions.create(id, {}, { ttl: 300 });
      await backend.a.sessions.create(id, { stays: true });
      await waitFor(async () => (await backend.b.sessions.get(token)) === undefined, 5_000, 'the session to expire');
      expect((await backend.b.sessions.list(id)).map((s) => s.metadata)).toEqual([{ stays: true }]);
    });

    it('rotates a token: the new one works everywhere, the old one only during the grace', async () => {
      const id = user();
      const { token, session } = await backend.a.sessions.create(id, { device: 'laptop' });
      const rotated = await backend.a.sessions.rotate(token);
      expect(rotated?.rotated).toBe(true);
      expect(rotated!.token).not.toBe(token);
      expect(await backend.b.sessions.get(rotated!.token)).toMatchObject({ userId: id, metadata: { device: 'laptop' } });
      expect((await backend.b.sessions.get(token))?.handle).toBe(rotated!.session.handle);
      expect((await backend.b.sessions.list(id)).map((s) => s.handle)).toEqual([rotated!.session.handle]);
      expect(await backend.b.sessions.byHandle(session.handle)).toBeUndefined();
      await waitFor(async () => (await backend.b.sessions.get(token)) === undefined, 5_000, 'the grace to end');
      expect(await backend.b.sessions.get(rotated!.token)).toBeDefined();
    });

    it('rotates once when two nodes rotate the same token at the same time', async () => {
      const { token } = await backend.a.sessions.create(user());
      const [onA, onB] = await Promise.all([backend.a.sessions.rotate(token), backend.b.sessions.rotate(token)]);
      expect([onA?.rotated, onB?.rotated].filter(Boolean)).toHaveLength(1);
      for (const result of [onA!, onB!]) expect(await backend.a.sessions.get(result.token)).toBeDefined();
    });

    it('ends the session a rotated token points to when that token signs out', async () => {
      const { token } = await backend.a.sessions.create(user());
      const rotated = await backend.a.sessions.rotate(token);
      expect(await backend.b.sessions.delete(token)).toBe(true);
      expect(await backend.a.sessions.get(rotated!.token)).toBeUndefined();
    });

    it('a create racing a revokeAll of the user hands out a live session or rejects with SessionRevokedError', async () => {
      const id = user();
      const creating = backend.a.sessions.create(id).then(
        (issued) => issued,
        (error: unknown) => error,
      );
      const revoked = await backend.a.sessions.revokeAll(id);
      const outcome = await creating;
      if (outcome instanceof SessionRevokedError) {
        // The mesh: the revokeAll ended it while its write was on its way to b.
        expect(outcome.userId).toBe(id);
        expect(revoked).toBe(1);
      } else {
        // Redis: each call is one script, so one ran wholly before the other; the session lives only if the revokeAll came first.
        const { token, session } = outcome as IssuedSession;
        expect(session).toMatchObject({ userId: id });
        expect((await backend.b.sessions.get(token)) !== undefined).toBe(revoked === 0);
      }
      const after = await backend.a.sessions.create(id); // made after the revokeAll: lives
      expect(await backend.b.sessions.get(after.token)).toBeDefined();
    });

    it('refuses a bad TTL or user id', async () => {
      await expect(backend.a.sessions.create(user(), {}, { ttl: 0 })).rejects.toBeInstanceOf(InvalidArgumentError);
      await expect(backend.a.sessions.create(undefined as never)).rejects.toBeInstanceOf(InvalidArgumentError);
    });
  });

  it('reports the node ready', () => {
    expect(backend.a.cluster.ready && backend.b.cluster.ready).toBe(true);
  });
});
