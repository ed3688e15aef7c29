/** The benchmark's workloads and the sizes of a full, quick and smoke run. */

export interface Sizes {
  rounds: number;
  /** Measured window and warm-up of each closed-loop workload, seconds. */
  duration: number;
  warmup: number;
  /** Key space of put and guarded-update txns, and the value size of put/get/txn. */
  keys: number;
  valueSize: number;
  /** The range prefix: this many keys of rangeValueSize bytes. */
  rangeKeys: number;
  rangeValueSize: number;
  rangeLimit: number;
  rangeConc: number;
  watchers: number;
  watchRates: number[];
  watchDuration: number;
  /** The memory figure: keys of memValueSize bytes loaded before RSS is read, then a restart. */
  memKeys: number;
  memValueSize: number;
  putConc: number[];
  getConc: number[];
  txnConc: number[];
  /**
   * Workloads also measured in the many-connection shape: their in-flight requests spread over
   * min(in flight, MAX_CONNS) gRPC connections instead of sharing one (one clientv3 client).
   */
  manyConns: string[];
}

/** The many-connection shape's connection count cap. */
export const MAX_CONNS = 16;

export const FULL: Sizes = {
  rounds: 3,
  duration: 2,
  warmup: 0.3,
  keys: 10_000,
  valueSize: 256,
  rangeKeys: 10_000,
  rangeValueSize: 1024,
  rangeLimit: 500,
  rangeConc: 8,
  watchers: 100,
  watchRates: [100, 1000],
  watchDuration: 2,
  memKeys: 100_000,
  memValueSize: 1024,
  putConc: [1, 16, 64, 256],
  getConc: [1, 16, 64],
  txnConc: [16, 64],
  // put-1 is absent: one request in flight uses one connection in either shape.
  manyConns: ['put-16', 'put-64', 'get-lin-64', 'range-full'],
};

export const QUICK: Sizes = { ...FULL, rounds: 1, duration: 1, warmup: 0.2, watchDuration: 1 };

/** The smoke run inside `npm test`: every workload, tiny. */
export const SMOKE: Sizes = {
  ...FULL,
  rounds: 1,
  duration: 0.3,
  warmup: 0.1,
  keys: 500,
  rangeKeys: 600,
  rangeValueSize: 256,
  rangeLimit: 100,
  rangeConc: 2,
  watchers: 5,
  watchRates: [100],
  watchDuration: 0.5,
  memKeys: 2_000,
  memValueSize: 256,
  putConc: [1, 8],
  getConc: [1, 8],
  txnConc: [8],
  manyConns: ['put-8', 'get-lin-8', 'range-full'],
};

/** One closed-loop or watch measurement: an id (the row of the tables) and the loadgen flags. */
export interface Workload {
  id: string;
  /** The many-connection variant's connection count (its id is `<base>/conns-<n>`). */
  conns?: number;
  group: 'put' | 'get' | 'range' | 'txn' | 'watch';
  args: { workload: string } & Record<string, string | number>;
}

export function workloads(s: Sizes): Workload[] {
  const timing = { duration: `${s.duration}s`, warmup: `${s.warmup}s` };
  const out: Workload[] = [];
  for (const c of s.putConc)
    out.push({
      id: `put-${c}`,
      group: 'put',
      args: { workload: 'put', conc: c, keys: s.keys, 'value-size': s.valueSize, prefix: 'bench/put/', ...timing },
    });
  for (const c of s.getConc)
    out.push({
      id: `get-lin-${c}`,
      group: 'get',
      args: { workload: 'get', conc: c, 'value-size': s.valueSize, prefix: 'bench/get/', ...timing },
    });
  for (const c of s.getConc)
    out.push({
      id: `get-ser-${c}`,
      group: 'get',
      args: { workload: 'get-serializable', conc: c, 'value-size': s.valueSize, prefix: 'bench/get/', ...timing },
    });
  const range = { keys: s.rangeKeys, 'value-size': s.rangeValueSize, prefix: 'bench/range/', conc: s.rangeConc, ...timing };
  // A full read takes 100s of ms: a longer window keeps the count of completed reads meaningful.
  out.push({ id: 'range-full', group: 'range', args: { workload: 'range-full', ...range, duration: `${2 * s.duration}s` } });
  out.push({ id: 'range-paged', group: 'range', args: { workload: 'range-paged', limit: s.rangeLimit, ...range } });
  out.push({ id: 'range-count', group: 'range', args: { workload: 'range-count', ...range } });
  for (const c of s.txnConc)
    out.push({
      id: `txn-create-${c}`,
      group: 'txn',
      args: { workload: 'txn-create', conc: c, 'value-size': s.valueSize, prefix: 'bench/txc/', ...timing },
    });
  for (const c of s.txnConc)
    out.push({
      id: `txn-update-${c}`,
      group: 'txn',
      args: { workload: 'txn-update', conc: c, keys: s.keys, 'value-size': s.valueSize, prefix: 'bench/txu/', ...timing },
    });
  for (const r of s.watchRates)
    out.push({
      id: `watch-${r}`,
      group: 'watch',
      args: {
        workload: 'watch',
        watchers: s.watchers,
        rate: r,
        'value-size': s.valueSize,
        prefix: 'bench/watch/',
        duration: `${s.watchDuration}s`,
      },
    });
  return withManyConns(out, s.manyConns);
}

/** Each workload named in `ids`, followed by its many-connection variant. */
function withManyConns(plan: Workload[], ids: string[]): Workload[] {
  return plan.flatMap((w) => {
    if (!ids.includes(w.id)) return [w];
    const conns = Math.min(Number(w.args.conc ?? 1), MAX_CONNS);
    return [w, { ...w, id: `${w.id}/conns-${conns}`, conns, args: { ...w.args, conns } }];
  });
}

/** The workload a many-connection variant measures (`put-64/conns-16` → `put-64`). */
export function baseId(id: string): string {
  return id.replace(/\/conns-\d+$/, '');
}
