/** The scale workload's section of docs/benchmarks.md: its figures per server and their verdicts. */
import type { Line } from './loadgen';
import { fmtRatio, num, Results } from './results';
import { metCell, type Verdict } from './verdicts';

const STRATA = ['sqlite', 'postgres', 'mysql'];

interface ScaleTarget {
  figure: string;
  text: string;
  id: string;
  field: string;
  /** etcd's figure times this is the bound; none: `bound` is absolute. */
  etcdTimes?: number;
  bound?: number;
  unit: string;
}

const TARGETS: ScaleTarget[] = [
  { figure: 'worst put latency during the load', text: '≤ 2× etcd', id: 'scale-load', field: 'max_ms', etcdTimes: 2, unit: 'ms' },
  { figure: 'RSS after the load', text: '≤ etcd', id: 'scale-load', field: 'rss_mib', etcdTimes: 1, unit: 'MiB' },
  { figure: 'RSS with every key overwritten once', text: '≤ etcd', id: 'scale-history', field: 'rss_mib', etcdTimes: 1, unit: 'MiB' },
  { figure: 'restart until a linearizable get', text: '≤ etcd', id: 'scale-restart', field: 'ready_s', etcdTimes: 1, unit: 's' },
  { figure: 'worst put/get latency during the compaction', text: '≤ 50 ms', id: 'scale-compact', field: 'worst_ms', bound: 50, unit: 'ms' },
  { figure: 'RSS after the compaction', text: '≤ etcd', id: 'scale-compact', field: 'rss_mib', etcdTimes: 1, unit: 'MiB' },
];

/** Result lines of the scale workload, with the compaction's worst of puts and gets as one figure. */
function scaleResults(lines: Line[]): Results {
  return new Results(
    lines
      .filter((l) => l.kind !== 'result' || l.group === 'scale')
      .map((l) => (l.id === 'scale-compact' ? { ...l, worst_ms: Math.max(Number(l.put_max_ms), Number(l.get_max_ms)) } : l)),
  );
}

/** "180 s" if the target's compaction was still running when the load generator gave up on it. */
function unfinished(lines: Line[], target: string): string | undefined {
  const l = lines.find((x) => x.kind === 'result' && x.id === 'scale-compact' && x.target === target);
  return l?.compact_finished === false ? `${num(Number(l.compact_s))} s` : undefined;
}

export function hasScale(lines: Line[]): boolean {
  return lines.some((l) => l.kind === 'result' && l.group === 'scale');
}

export function scaleVerdicts(lines: Line[]): Verdict[] {
  const s = scaleResults(lines);
  const out: Verdict[] = [];
  for (const t of TARGETS)
    for (const b of STRATA) {
      const mine = s.get(b, t.id, t.field)?.med;
      if (mine === undefined) continue;
      const etcd = s.get('etcd', t.id, t.field)?.med;
      const bound = t.etcdTimes !== undefined ? (etcd ?? NaN) * t.etcdTimes : (t.bound ?? NaN);
      const base = { id: t.figure, backend: b, target: t.text };
      if (!Number.isFinite(bound)) {
        out.push({ ...base, met: undefined, detail: 'no etcd figure in this run' });
        continue;
      }
      const met = mine <= bound;
      let detail = `${num(mine)} ${t.unit}`;
      if (t.etcdTimes !== undefined) detail += ` vs etcd ${num(etcd)} ${t.unit} (${fmtRatio(mine / (etcd ?? NaN))})`;
      if (!met) detail += ` — ${num(mine - bound)} ${t.unit} (${Math.round((mine / bound - 1) * 100)}%) over the bound`;
      const giveUp = unfinished(lines, b);
      if (t.id === 'scale-compact' && giveUp) detail += ` (the compaction had not finished after ${giveUp})`;
      out.push({ ...base, met, detail });
    }
  return out;
}

export function renderScale(lines: Line[]): string[] {
  const s = scaleResults(lines);
  const present = ['etcd', ...STRATA].filter((t) => s.has(t));
  const load = lines.find((l) => l.kind === 'result' && l.id === 'scale-load');
  const hist = lines.find((l) => l.kind === 'result' && l.id === 'scale-history');
  const comp = lines.find((l) => l.kind === 'result' && l.id === 'scale-compact');
  const keys = num(Number(load?.keys));
  const out: string[] = [`## Scale: ${keys} keys × ${num(Number(load?.value_size))} B`, ''];
  out.push(
    `One server at a time, alone: ${keys} keys loaded with plain puts, ${num(Number(load?.conc))} in flight on one ` +
      `connection; then every key overwritten once more (txns of ${num(Number(hist?.batch))} puts, ` +
      `${num(Number(hist?.conc))} in flight: twice the versions); a restart (SIGTERM, spawn on the same data, until a ` +
      'linearizable get is answered); then a physical compaction to the latest revision while puts and linearizable ' +
      `gets of random keys run beside it at ${num(Number(comp?.rate))}/s each (open loop); its window stays open ` +
      `${num(Number(comp?.window_s) - Number(comp?.compact_s))} s after the compaction returned (or after the load ` +
      'generator gave up waiting for it: *unfinished*). RSS (VmRSS) of the ' +
      'server process 1 s after each step; for PostgreSQL that is strata alone. Disk: the data dir, or the database.',
    '',
  );
  out.push(
    '| server | load puts/s | load p99 ms | load worst put ms | RSS after load MiB | peak RSS during load MiB | RSS after overwrite MiB | restart s | compaction s | puts / gets during it | worst put / get ms | p99 put / get ms | RSS after compaction MiB | disk after load / overwrite / compaction MiB |',
    '|---|---|---|---|---|---|---|---|---|---|---|---|---|---|',
  );
  const f = (t: string, id: string, field: string) => num(s.get(t, id, field)?.med);
  for (const t of present)
    out.push(
      `| ${t === 'etcd' ? 'etcd' : `strata ${t}`} | ${f(t, 'scale-load', 'keys_per_s')} | ${f(t, 'scale-load', 'p99_ms')} | ${f(t, 'scale-load', 'max_ms')} | ${f(t, 'scale-load', 'rss_mib')} | ${f(t, 'scale-load', 'rss_peak_mib')} | ${f(t, 'scale-history', 'rss_mib')} | ${f(t, 'scale-restart', 'ready_s')} | ${unfinished(lines, t) ? `unfinished after ${unfinished(lines, t) ?? ''}` : f(t, 'scale-compact', 'compact_s')} | ${f(t, 'scale-compact', 'puts')} / ${f(t, 'scale-compact', 'gets')} | ${f(t, 'scale-compact', 'put_max_ms')} / ${f(t, 'scale-compact', 'get_max_ms')} | ${f(t, 'scale-compact', 'put_p99_ms')} / ${f(t, 'scale-compact', 'get_p99_ms')} | ${f(t, 'scale-compact', 'rss_mib')} | ${f(t, 'scale-load', 'disk_mib')} / ${f(t, 'scale-history', 'disk_mib')} / ${f(t, 'scale-compact', 'disk_mib')} |`,
    );
  out.push('');
  out.push('| figure | backend | target | result | verdict |', '|---|---|---|---|---|');
  for (const v of scaleVerdicts(lines)) out.push(`| ${v.id} | ${v.backend} | ${v.target} | ${v.detail} | ${metCell(v)} |`);
  out.push('');
  const la = s.loadAverages();
  const m = s.machine;
  if (la.length)
    out.push(
      `Run ${[...s.runs].join(', ')}${m?.strata_commit ? `, strata commit ${String(m.strata_commit)}` : ''}; the 1-minute load average after each step ranged ${num(Math.min(...la))}–${num(Math.max(...la))} on ${String(m?.cores ?? '?')} cores.`,
      '',
    );
  for (const e of s.errors.filter((l) => String(l.id).startsWith('scale')))
    out.push(`- Error (${String(e.target)}, ${String(e.id)}): ${String(e.error).split('\n')[0].slice(0, 300)}`);
  return out;
}
