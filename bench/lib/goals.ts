/**
 * The targets the report judges each figure against: ratios strata/etcd of medians in the same run
 * unless said otherwise. A many-connection variant (`put-64/conns-16`) is held to its workload's.
 */
import { baseId } from './plan';

/** What a check sees: the ratio of medians, and the raw figures some targets need. */
export interface Measured {
  ratio: number;
  strataP99?: number;
  etcdP99?: number;
  missing?: number;
  strataValue?: number;
}

export interface Target {
  text: string;
  /** Which backends the target applies to. */
  backends: string[];
  check: (m: Measured) => boolean;
  /** For a miss: by how much it falls short, in words. */
  shortfall: (m: Measured) => string;
}

const all = ['sqlite', 'postgres', 'mysql'];
const sql = ['postgres', 'mysql'];

const pct = (x: number) => `${Math.round(x * 100)}%`;

/** ops/s at least `need` × etcd's. */
function atLeast(need: number, backends: string[]): Target {
  return {
    text: `≥ ${need.toFixed(1)}× ops/s`,
    backends,
    check: (m) => m.ratio >= need,
    shortfall: (m) => `needs ${need.toFixed(1)}×, short by ${pct(1 - m.ratio / need)}`,
  };
}

/** p99 at most etcd's: how far above it. */
function p99Over(m: Measured): string {
  const s = m.strataP99 ?? NaN;
  const e = m.etcdP99 ?? NaN;
  return s > e ? `p99 ${pct(s / e - 1)} above etcd's` : '';
}

const watch: Target = {
  text: 'all delivered, p99 ≤ etcd',
  backends: all,
  check: (m) => m.missing === 0 && (m.strataP99 ?? Infinity) <= (m.etcdP99 ?? 0),
  shortfall: (m) => [m.missing ? `${String(m.missing)} events missing` : '', p99Over(m)].filter(Boolean).join(', '),
};

export const TARGETS: Record<string, Target[]> = {
  'put-1': [atLeast(1.0, sql)],
  'put-16': [atLeast(1.0, sql)],
  'put-64': [
    {
      text: '≥ 1.5× ops/s, p99 ≤ etcd',
      backends: ['sqlite'],
      check: (m) => m.ratio >= 1.5 && (m.strataP99 ?? Infinity) <= (m.etcdP99 ?? 0),
      shortfall: (m) => [m.ratio < 1.5 ? `needs 1.5×, short by ${pct(1 - m.ratio / 1.5)}` : '', p99Over(m)].filter(Boolean).join('; '),
    },
    atLeast(1.0, sql),
  ],
  'put-256': [atLeast(1.0, ['sqlite'])],
  'get-lin-1': [atLeast(1.0, sql)],
  'get-lin-64': [atLeast(1.0, all)],
  'get-ser-64': [atLeast(1.0, all)],
  'range-full': [atLeast(2.0, all)],
  'range-paged': [atLeast(2.0, all)],
  'range-count': [atLeast(5.0, all)],
  'txn-create-16': [atLeast(1.5, sql)],
  'txn-update-16': [atLeast(1.5, sql)],
  'txn-update-64': [atLeast(1.5, ['sqlite'])],
  'watch-100': [watch],
  'watch-1000': [watch],
  memory: [
    {
      text: 'RSS ≤ 1.5× etcd',
      backends: all,
      check: (m) => m.ratio <= 1.5,
      shortfall: (m) => `${pct(m.ratio / 1.5 - 1)} over the 1.5× bound`,
    },
  ],
  restart: [
    {
      text: '≤ 5 s',
      backends: all,
      check: (m) => (m.strataValue ?? Infinity) <= 5,
      shortfall: (m) => `${((m.strataValue ?? NaN) - 5).toFixed(2)} s over`,
    },
  ],
};

export function targetFor(id: string, backend: string): Target | undefined {
  return TARGETS[baseId(id)]?.find((x) => x.backends.includes(backend));
}
