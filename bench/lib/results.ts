/** A run's result lines grouped by target and workload, their medians, and the tables' number formats. */
import type { Line } from './loadgen';

export function median(xs: number[]): number {
  const s = xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

export interface Stat {
  med: number;
  min: number;
  max: number;
  n: number;
}

export function stat(xs: number[]): Stat {
  const s = xs.filter((x) => Number.isFinite(x));
  return { med: median(s), min: Math.min(...s), max: Math.max(...s), n: s.length };
}

/** Results grouped by target and workload id. */
export class Results {
  readonly byKey = new Map<string, Line[]>();
  readonly machine?: Line;
  readonly plan?: Line;
  readonly skips: Line[] = [];
  readonly errors: Line[] = [];
  readonly runs = new Set<string>();

  constructor(lines: Line[]) {
    for (const l of lines) {
      if (typeof l.run === 'string') this.runs.add(l.run);
      if (l.kind === 'machine') (this as { machine?: Line }).machine = l;
      else if (l.kind === 'plan') (this as { plan?: Line }).plan = l;
      else if (l.kind === 'skip') this.skips.push(l);
      else if (l.kind === 'error') this.errors.push(l);
      else if (l.kind === 'result') {
        const k = `${String(l.target)}/${String(l.id)}`;
        const list = this.byKey.get(k) ?? [];
        list.push(l);
        this.byKey.set(k, list);
      }
    }
  }

  get(target: string, id: string, field: string): Stat | undefined {
    const list = this.byKey.get(`${target}/${id}`);
    if (!list) return undefined;
    const s = stat(list.map((l) => Number(l[field])));
    return s.n ? s : undefined;
  }

  has(target: string): boolean {
    for (const k of this.byKey.keys()) if (k.startsWith(`${target}/`)) return true;
    return false;
  }

  /** Every load-average reading: how busy the machine was. */
  loadAverages(): number[] {
    return [...this.byKey.values()]
      .flat()
      .map((l) => Number(l.load_avg))
      .filter(Number.isFinite);
  }
}

// ---- formatting ----------------------------------------------------------------------------------

export function num(x: number | undefined): string {
  if (x === undefined || !Number.isFinite(x)) return '—';
  const a = Math.abs(x);
  if (Number.isInteger(x) || a >= 100) return Math.round(x).toLocaleString('en-US');
  if (a >= 10) return x.toFixed(1);
  if (a >= 1) return x.toFixed(2);
  return x.toFixed(3);
}

export function withSpread(s: Stat | undefined): string {
  if (!s) return '—';
  if (s.n < 2) return num(s.med);
  return `${num(s.med)} (${num(s.min)}–${num(s.max)})`;
}

export function ratio(a: Stat | undefined, b: Stat | undefined): number {
  return a && b && b.med > 0 ? a.med / b.med : NaN;
}

export function fmtRatio(r: number): string {
  return Number.isFinite(r) ? `${r.toFixed(2)}×` : '—';
}

export function cpu(s: Results, target: string, id: string): string {
  const c = s.get(target, id, 'client_cpu_pct');
  const v = s.get(target, id, 'server_cpu_pct');
  const d = s.get(target, id, 'db_cpu_pct');
  const server = d ? `${num(v?.med)} + db ${num(d.med)}` : num(v?.med);
  return `${num(c?.med)} / ${server}`;
}
