/** A restart: N persisted sessions loaded, start → ready, values as bytes against the same load decoding every value and against Mnesia loading a disc_copies table of the same sessions. */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { CacheEngine } from '../../libs/cluster-cache/src/engine/cache-engine';
import { LmdbPersistenceDirectory } from '../../libs/cluster-cache/src/persistence/lmdb.persistence';
import type { TablePersistence } from '../../libs/cluster-cache/src/persistence/table-persistence.interface';
import { systemClock } from '../../libs/cluster-cache/src/store/clock';
import { Store } from '../../libs/cluster-cache/src/store/store';
import { log, median, nowNs, table } from '../util/harness';
import { MnesiaRestart } from './mnesia-restart';
import { N, NODE_OPTS, out, rows, RUNS, writePersistedSessions } from './setup';

/** Seconds from opening the data directory to a table loaded (the engine's start path); `decode` loads as before, every value decoded. */
async function restart(dir: string, decode: boolean): Promise<number> {
  const t0 = nowNs();
  const engine = new CacheEngine(new Store('a@127.0.0.1', systemClock), NODE_OPTS);
  const table_ = engine.store.addTable('sessions', 'replicated');
  const disk = await LmdbPersistenceDirectory.open(dir, NODE_OPTS.logger);
  let persistence: TablePersistence = await disk.table('sessions');
  if (decode) {
    const inner = persistence;
    // The load as it was: values decoded at load (no valuesAsBytes).
    persistence = Object.assign(Object.create(inner) as TablePersistence, { load: (onDamaged?: Parameters<TablePersistence['load']>[0]) => inner.load(onDamaged) });
  }
  engine.persist(table_, persistence);
  await engine.loadPersisted();
  const s = (nowNs() - t0) / 1e9;
  if (table_.size !== N) throw new Error(`loaded ${table_.size} of ${N}`);
  await disk.close();
  return s;
}

export async function sectionRestart(): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'compact-restart-'));
  let mnesia: MnesiaRestart | undefined;
  try {
    log(`restart: writing ${N} sessions`);
    await writePersistedSessions(dir, N);
    mnesia = MnesiaRestart.available() ? new MnesiaRestart(N) : undefined;
    if (mnesia === undefined) log('restart: `erl` is not installed (apt-get install -y erlang-nox): no Mnesia anchor');
    else log(`restart: Mnesia fill of ${N} sessions: ${mnesia.fill().toFixed(1)} s`);
    const res = { bytes: [] as number[], decoded: [] as number[], mnesia: [] as number[] };
    for (let round = 0; round <= RUNS; round++) {
      const bytes = await restart(dir, false);
      const decoded = await restart(dir, true);
      const m = mnesia?.load();
      log(`restart: round ${round}: values as bytes ${bytes.toFixed(2)} s, decoded ${decoded.toFixed(2)} s${m === undefined ? '' : `, Mnesia ${m.toFixed(2)} s`}`);
      if (round > 0) {
        res.bytes.push(bytes);
        res.decoded.push(decoded);
        if (m !== undefined) res.mnesia.push(m);
      }
    }
    const b = median(res.bytes);
    const d = median(res.decoded);
    const m = res.mnesia.length > 0 ? median(res.mnesia) : undefined;
    out(`### Restart: ${N.toLocaleString('en')} persisted sessions, open → loaded (median of ${RUNS}, alternating)`);
    out();
    out(table(['load', 'seconds', 'runs'], [
      ['values kept as bytes (now)', b.toFixed(2), res.bytes.map((x) => x.toFixed(2)).join(' · ')],
      ['every value decoded', d.toFixed(2), res.decoded.map((x) => x.toFixed(2)).join(' · ')],
      ...(m === undefined ? [] : [[`Mnesia disc_copies, mnesia:start() → wait_for_tables (${mnesia!.otp})`, m.toFixed(2), res.mnesia.map((x) => x.toFixed(2)).join(' · ')]]),
    ]));
    out();
    const figure = `restart: load ${N.toLocaleString('en')} persisted sessions, start → ready`;
    if (m === undefined) {
      rows.push({ id: 'restart-load', ours: b, unit: 's', anchorValue: { label: 'the same load decoding every value', value: d }, figure, measured: `${b.toFixed(2)} s`, anchor: `decoding load ${d.toFixed(2)} s (no Mnesia: erl not installed)`, ratio: b / d, target: '≤ 1 s and ≤ Mnesia', met: false });
    } else {
      rows.push({ id: 'restart-load', ours: b, unit: 's', anchorValue: { label: 'Mnesia disc_copies load of the same sessions as maps', value: m }, figure, measured: `${b.toFixed(2)} s`, anchor: `Mnesia ${m.toFixed(2)} s`, ratio: b / m, target: '≤ 1 s and ≤ Mnesia', met: b <= 1 && b <= m });
    }
  } finally {
    mnesia?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
