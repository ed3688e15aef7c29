/** Every figure that has a target, judged on this run's medians; a miss says by how much. */
import { targetFor } from './goals';
import { FULL, workloads, type Sizes } from './plan';
import { fmtRatio, num, ratio, type Results } from './results';

export const BACKENDS = ['sqlite', 'postgres', 'mysql'];

export interface Verdict {
  id: string;
  backend: string;
  target: string;
  met: boolean | undefined;
  detail: string;
}

/** The ids that have a target on some backend, in the plan's order, then memory and restart. */
function judgedIds(s: Results): string[] {
  const sizes = (s.plan?.sizes ?? {}) as Partial<Sizes>;
  const ids = [...workloads({ ...FULL, ...sizes }).map((w) => w.id), 'memory', 'restart'];
  return ids.filter((id) => BACKENDS.some((b) => targetFor(id, b)));
}

function fieldOf(id: string): string {
  if (id === 'memory') return 'rss_mib';
  if (id === 'restart') return 'ready_s';
  return id.startsWith('watch') ? 'p99_ms' : 'ops_per_s';
}

export function verdicts(s: Results): Verdict[] {
  const out: Verdict[] = [];
  for (const id of judgedIds(s)) {
    for (const b of BACKENDS) {
      const t = targetFor(id, b);
      if (!t || !s.has(b)) continue;
      const field = fieldOf(id);
      const mine = s.get(b, id, field);
      const etcd = s.get('etcd', id, field);
      if (!mine) {
        out.push({ id, backend: b, target: t.text, met: undefined, detail: 'not measured' });
        continue;
      }
      if (id !== 'restart' && !etcd) {
        out.push({ id, backend: b, target: t.text, met: undefined, detail: 'no etcd figure in this run' });
        continue;
      }
      const r = ratio(mine, etcd);
      const strataP99 = s.get(b, id, 'p99_ms')?.med;
      const etcdP99 = s.get('etcd', id, 'p99_ms')?.med;
      const missing = s.get(b, id, 'events_missing')?.max;
      const m = { ratio: r, strataP99, etcdP99, missing, strataValue: mine.med };
      const met = t.check(m);
      let detail: string;
      if (id === 'restart') detail = `${num(mine.med)} s`;
      else if (id.startsWith('watch'))
        detail = `p99 ${num(strataP99)} ms vs etcd ${num(etcdP99)} ms (${fmtRatio(r)}); missing events: ${num(missing)}`;
      else if (id === 'memory') detail = `${num(mine.med)} MiB vs etcd ${num(etcd?.med)} MiB (${fmtRatio(r)})`;
      else {
        detail = `${fmtRatio(r)} etcd's ops/s`;
        if (t.text.includes('p99')) detail += `; p99 ${num(strataP99)} ms vs etcd ${num(etcdP99)} ms`;
      }
      if (!met) detail += ` — ${t.shortfall(m)}`;
      out.push({ id, backend: b, target: t.text, met, detail });
    }
  }
  return out;
}

export function metCell(v: { met: boolean | undefined; detail: string } | undefined): string {
  if (!v) return '';
  return v.met === undefined ? `n/a (${v.detail})` : v.met ? '**met**' : '**missed**';
}
