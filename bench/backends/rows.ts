/** The rows of each section: the library's paths on every backend, next to Map.get and both raw ioredis clients. */
import { TTL } from './mesh-options';
import { Backend } from './setup';
import { at, GET_KEYS, MAP, PACKED, PUT_KEYS, RAW_GET_KEYS, RAW_PUT_KEYS, SPREAD_GET_KEYS, SPREAD_PUT_KEYS, VALUES } from './options';
import { Row } from './measure';
import { Loaded } from './preload';

/** The rows (paths and their anchors) of the get and put sections, on the backends started. */
export function sectionRows(backends: Backend[], { tokens, sessionKeysOf, sessionBytes }: Loaded): { getRows: (inflight: boolean) => Row[]; putRows: (inflight: boolean) => Row[] } {
  const mesh = backends.find((b) => b.name === 'mesh');
  const redisBackends = backends.filter((b) => b.raw !== undefined);
  const cacheGet = (b: Backend) => (i: number) => b.cache.get(at(GET_KEYS, i));
  const sessionGet = (b: Backend) => {
    const own = tokens.get(b.name)!;
    return (i: number) => b.sessions.get(at(own, i));
  };
  type RawKind = 'plain' | 'pipelined';
  const rawGet = (b: Backend, client: RawKind, keys: readonly (string | Buffer)[] = RAW_GET_KEYS) => (i: number) => b.raw![client].getBuffer(at(keys, i)).then((v) => v ?? undefined);
  const rawSet = (b: Backend, client: RawKind, keys: readonly (string | Buffer)[] = RAW_PUT_KEYS) => (i: number) => b.raw![client].set(at(keys, i), at(PACKED, i), 'PX', TTL);
  const put = (b: Backend) => (i: number) => b.cache.put(at(PUT_KEYS, i), at(VALUES, i));

  const RAW: Record<RawKind, string> = { plain: 'raw ioredis, no auto-pipelining', pipelined: 'raw ioredis, auto-pipelining' };
  const SPREAD = 'raw ioredis, auto-pipelining, plain keys spread over the 3 masters (context)';
  /** Both raw rows of one operation, and their ids (the library row's anchors). */
  const rawRows = (b: Backend, what: string, label: string, op: (kind: RawKind) => (i: number) => unknown, read: boolean): [Row[], string[]] => {
    const kinds: RawKind[] = ['plain', 'pipelined'];
    const rows = kinds.map((kind): Row => ({ id: `${b.name}:raw-${what}-${kind}`, backend: b.label, server: b.serverCpuUs, path: { name: `${RAW[kind]}: ${label}`, async: op(kind), read } }));
    return [rows, rows.map((r) => r.id)];
  };

  // Rows of each section.
  const getRows = (inflight: boolean): Row[] => {
    const rows: Row[] = [];
    if (!inflight) rows.push({ id: 'clock', backend: '—', path: { name: '(clock only: two hrtime reads around nothing)', sync: () => 1, local: true, read: true } });
    if (mesh !== undefined) {
      const mapId = inflight ? 'map:await-get' : 'map:get';
      rows.push({
        id: mapId,
        backend: 'in-process Map',
        path: inflight
          ? { name: 'await Map.get', async: (i) => MAP.get(at(GET_KEYS, i)), local: true, read: true }
          : { name: 'Map.get', sync: (i) => MAP.get(at(GET_KEYS, i)), local: true, read: true },
      });
      if (!inflight) {
        rows.push({ id: 'mesh:get-sync', backend: mesh.label, server: mesh.serverCpuUs, path: { name: 'CacheStore.get, not awaited (sync on the mesh)', sync: cacheGet(mesh), local: true, read: true }, anchor: mapId });
      }
      rows.push({ id: 'mesh:get', backend: mesh.label, server: mesh.serverCpuUs, path: { name: 'await CacheStore.get', async: cacheGet(mesh), local: true, read: true }, anchor: mapId });
      if (!inflight) {
        rows.push({ id: 'mesh:session-sync', backend: mesh.label, server: mesh.serverCpuUs, path: { name: 'SessionStore.get, not awaited', sync: sessionGet(mesh), local: true, read: true }, anchor: 'mesh:get-sync' });
      }
      rows.push({ id: 'mesh:session', backend: mesh.label, server: mesh.serverCpuUs, path: { name: 'await SessionStore.get', async: sessionGet(mesh), local: true, read: true }, anchor: 'mesh:get' });
    }
    for (const b of redisBackends) {
      const [raw, rawIds] = rawRows(b, 'get', 'GET', (kind) => rawGet(b, kind), true);
      rows.push(...raw);
      if (inflight && b.name === 'cluster') rows.push({ id: 'cluster:raw-get-spread', backend: b.label, server: b.serverCpuUs, path: { name: `${SPREAD}: GET`, async: rawGet(b, 'pipelined', SPREAD_GET_KEYS), read: true }, anchor: rawIds });
      rows.push({ id: `${b.name}:get`, backend: b.label, server: b.serverCpuUs, path: { name: 'await CacheStore.get', async: cacheGet(b), read: true }, anchor: rawIds });
      const keys = sessionKeysOf.get(b.name)!;
      const [rawSession, rawSessionIds] = rawRows(b, 'session', `GET of the session's key (${sessionBytes.get(b.name)} B)`, (kind) => rawGet(b, kind, keys), true);
      rows.push(...rawSession);
      rows.push({ id: `${b.name}:session`, backend: b.label, server: b.serverCpuUs, path: { name: 'await SessionStore.get', async: sessionGet(b), read: true }, anchor: rawSessionIds });
    }
    return rows;
  };
  const putRows = (inflight: boolean): Row[] => {
    const rows: Row[] = [];
    if (mesh !== undefined) rows.push({ id: 'mesh:put', backend: mesh.label, server: mesh.serverCpuUs, path: { name: 'await CacheStore.put (sync write: peer applied it)', async: put(mesh), read: false } });
    for (const b of redisBackends) {
      const [raw, rawIds] = rawRows(b, 'set', 'SET … PX', (kind) => rawSet(b, kind), false);
      rows.push(...raw);
      if (inflight && b.name === 'cluster') rows.push({ id: 'cluster:raw-set-spread', backend: b.label, server: b.serverCpuUs, path: { name: `${SPREAD}: SET … PX`, async: rawSet(b, 'pipelined', SPREAD_PUT_KEYS), read: false }, anchor: rawIds });
      rows.push({ id: `${b.name}:put`, backend: b.label, server: b.serverCpuUs, path: { name: 'await CacheStore.put (one Lua write script)', async: put(b), read: false }, anchor: rawIds });
    }
    return rows;
  };

  return { getRows, putRows };
}
