/**
 * The many-connection shape: the workloads whose in-flight requests were spread over several gRPC
 * connections, next to the same workload on one shared connection, each with its ratio to etcd.
 */
import { baseId, MAX_CONNS, type Workload } from './plan';
import { cpu, fmtRatio, num, ratio, withSpread, type Results } from './results';
import { metCell, type Verdict } from './verdicts';

export function manyConnsTable(
  s: Results,
  plan: Workload[],
  present: string[],
  vOf: (id: string, backend: string) => Verdict | undefined,
): string[] {
  const variants = plan.filter((w) => w.conns !== undefined);
  const rows: string[] = [];
  for (const w of variants)
    for (const t of present) {
      const ops = s.get(t, w.id, 'ops_per_s');
      if (!ops) continue;
      const isEtcd = t === 'etcd';
      const one = s.get(t, baseId(w.id), 'ops_per_s');
      const etcdOps = s.get('etcd', w.id, 'ops_per_s');
      const v = isEtcd ? undefined : vOf(w.id, t);
      const p99 = s.get(t, w.id, 'p99_ms');
      const oneRatio = isEtcd ? '' : fmtRatio(ratio(one, s.get('etcd', baseId(w.id), 'ops_per_s')));
      rows.push(
        `| ${baseId(w.id)} | ${num(w.conns)} | ${isEtcd ? 'etcd' : `strata ${t}`} | ${withSpread(ops)} | ${isEtcd ? '' : fmtRatio(ratio(ops, etcdOps))} | ${num(s.get(t, w.id, 'p50_ms')?.med)} | ${withSpread(p99)} | ${isEtcd ? '' : fmtRatio(ratio(p99, s.get('etcd', w.id, 'p99_ms')))} | ${num(one?.med)} | ${oneRatio} | ${fmtRatio(ratio(ops, one))} | ${cpu(s, t, w.id)} | ${v?.target ?? ''} | ${metCell(v)} |`,
      );
    }
  if (rows.length === 0) return [];
  return [
    '### many connections: the same workloads with their requests spread over several gRPC connections',
    '',
    `Each of *conns* clientv3 clients (min(in flight, ${String(MAX_CONNS)})) carries an equal share of the workers; ` +
      'the one-connection figures are those of the tables above. The targets apply to both shapes. put-1 is not ' +
      'repeated: one request in flight uses one connection in either shape.',
    '',
    '| workload | conns | server | ops/s | × etcd | p50 ms | p99 ms | p99 × etcd | ops/s on one connection | × etcd on one connection | many ÷ one | CPU % client / server | target | verdict |',
    '|---|---|---|---|---|---|---|---|---|---|---|---|---|---|',
    ...rows,
    '',
  ];
}
