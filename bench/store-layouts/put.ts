/** The per-put value copy: frozenCopy against the prototype copies. */
import { settleValue as deepFreeze } from '../../libs/cluster-cache/src/values/settle';
import { frozenCopy } from '../../libs/cluster-cache/src/util/frozen-copy';
import { fmtOps, fmtRatio, fullGc, interleaved, median, nowNs, prng, table } from '../util/harness';
import { CREATED_AT, sessionMetadata, sessionValues } from '../util/session-data';
import { N_PUT, out, RUNS } from './setup';
import { jsonCopy, shapeCopy } from './pieces';

// 3. put: the copy

export async function sectionPut(): Promise<void> {
  const values = sessionValues(N_PUT, 12);
  const meta = (() => {
    const r = prng(5);
    return Array.from({ length: N_PUT }, (_, i) => ({ userId: 'user-000000001', metadata: sessionMetadata(i, r), createdAt: CREATED_AT }));
  })();
  let sink: unknown;
  const rate = (f: () => void) => () => {
    const t0 = nowNs();
    f();
    return N_PUT / ((nowNs() - t0) / 1e9);
  };
  const contenders = [
    { name: 'frozenCopy(v) — the library\'s copy (since a49bb07)', run: rate(() => { for (let i = 0; i < N_PUT; i++) sink = frozenCopy(values[i]); }) },
    { name: 'deepFreeze(structuredClone(v)) — the copy before a49bb07', run: rate(() => { for (let i = 0; i < N_PUT; i++) sink = deepFreeze(structuredClone(values[i])); }) },
    { name: 'deepFreeze(JSON.parse(JSON.stringify(v))) — exact layout, JSON-safe data only', run: rate(() => { for (let i = 0; i < N_PUT; i++) sink = jsonCopy(values[i]); }) },
    { name: 'shapeCopy(v) — compiled literal per shape, exact layout, frozen', run: rate(() => { for (let i = 0; i < N_PUT; i++) sink = shapeCopy(values[i]); }) },
    { name: 'frozenCopy, nested session record', run: rate(() => { for (let i = 0; i < N_PUT; i++) sink = frozenCopy(meta[i]); }) },
    { name: 'deepFreeze(structuredClone(v)), nested session record', run: rate(() => { for (let i = 0; i < N_PUT; i++) sink = deepFreeze(structuredClone(meta[i])); }) },
    { name: 'deepFreeze(JSON round trip), nested session record', run: rate(() => { for (let i = 0; i < N_PUT; i++) sink = jsonCopy(meta[i]); }) },
    { name: 'shapeCopy, nested session record', run: rate(() => { for (let i = 0; i < N_PUT; i++) sink = shapeCopy(meta[i]); }) },
  ];
  const res = await interleaved<number>(contenders, RUNS, 1, () => fullGc());
  void sink;
  const base = median(res.get(contenders[0].name)!);
  out(`### Prototype value copies (the per-put copy), ${N_PUT.toLocaleString('en')} values per run`);
  out();
  out(table(['copy', 'median copies/s', 'µs/copy', 'ratio vs frozenCopy', 'runs'], [...res].map(([name, xs]) => [name, fmtOps(median(xs)), (1e6 / median(xs)).toFixed(2), fmtRatio(median(xs) / base), xs.map(fmtOps).join(' · ')])));
  out();
}
