/**
 * Turns the JSON lines of a run into docs/benchmarks.md's tables: medians with the spread over
 * rounds (min–max), the ratio strata/etcd of medians, client/server CPU, and the speed targets.
 */
import { manyConnsTable } from './conns-table';
import type { Line } from './loadgen';
import { FULL, workloads, type Sizes } from './plan';
import { cpu, fmtRatio, num, ratio, Results, withSpread } from './results';
import { BACKENDS, metCell, verdicts } from './verdicts';

export { median, Results } from './results';
export { verdicts } from './verdicts';

const TITLES: Record<string, string> = {
  put: 'put, 256 B values over 10,000 keys',
  get: 'get of one key (lin = linearizable, ser = serializable)',
  range: 'range over a 10,000-key prefix of 1 KiB values',
  txn: "kube-apiserver's txns: create (mod_revision = 0 → put) and guarded update (mod_revision = r → put, else get)",
};

export function renderTables(lines: Line[]): string {
  const s = new Results(lines.filter((l) => l.group !== 'scale'));
  const sizes = (s.plan?.sizes ?? {}) as Partial<Sizes>;
  const present = ['etcd', ...BACKENDS].filter((t) => s.has(t));
  const vs = verdicts(s);
  const vOf = (id: string, b: string) => vs.find((v) => v.id === id && v.backend === b);
  const out: string[] = [];

  out.push('## Targets, medians of this run', '');
  out.push('| figure | backend | target | result | verdict |', '|---|---|---|---|---|');
  for (const v of vs) out.push(`| ${v.id} | ${v.backend} | ${v.target} | ${v.detail} | ${metCell(v)} |`);
  if (vs.length === 0) out.push('| — | — | — | no strata backend measured | |');
  out.push('');

  out.push('## Throughput and latency', '');
  out.push(
    'Closed loop: *in flight* workers each keep one request outstanding, all on one gRPC connection (one clientv3 ' +
      "client, as each of kube-apiserver's storage clients is; the many-connection shape has its own table below). " +
      'ops/s and p99 are medians over rounds, with ' +
      "the spread (min–max) in brackets; × etcd is strata's median over etcd's. CPU is % of one core used during the " +
      'measured window by the load generator / by the server (for PostgreSQL and MySQL plus the database server: ' +
      "PostgreSQL's backends serving strata's database, MariaDB's whole server process).",
    '',
  );
  const plan = workloads({ ...FULL, ...sizes });
  for (const group of ['put', 'get', 'range', 'txn'] as const) {
    const ids = plan.filter((w) => w.group === group && !w.conns).map((w) => w.id);
    if (ids.length === 0) continue;
    out.push(`### ${TITLES[group]}`, '');
    if (group === 'range')
      out.push(
        `${num(sizes.rangeConc)} requests in flight. *paged*: kube-apiserver's list, limit ${num(sizes.rangeLimit)}, first page linearizable, the rest at its revision; one op = one page (${Math.ceil((sizes.rangeKeys ?? 10000) / (sizes.rangeLimit ?? 500))} pages per list).`,
        '',
      );
    out.push(
      '| workload | server | ops/s | × etcd | p50 ms | p99 ms | p99 × etcd | CPU % client / server | target | verdict |',
      '|---|---|---|---|---|---|---|---|---|---|',
    );
    for (const id of ids) {
      for (const t of present) {
        const ops = s.get(t, id, 'ops_per_s');
        if (!ops) continue;
        const p99 = s.get(t, id, 'p99_ms');
        const isEtcd = t === 'etcd';
        const v = isEtcd ? undefined : vOf(id, t);
        out.push(
          `| ${id} | ${isEtcd ? 'etcd' : `strata ${t}`} | ${withSpread(ops)} | ${isEtcd ? '' : fmtRatio(ratio(ops, s.get('etcd', id, 'ops_per_s')))} | ${num(s.get(t, id, 'p50_ms')?.med)} | ${withSpread(p99)} | ${isEtcd ? '' : fmtRatio(ratio(p99, s.get('etcd', id, 'p99_ms')))} | ${cpu(s, t, id)} | ${v?.target ?? ''} | ${metCell(v)} |`,
        );
      }
    }
    out.push('');
  }

  out.push(...manyConnsTable(s, plan, present, vOf));

  const watchIds = plan.filter((w) => w.group === 'watch').map((w) => w.id);
  if (watchIds.length) {
    out.push(`### watch: ${num(sizes.watchers)} watchers on a prefix, one writer putting at a fixed rate`, '');
    out.push(
      "Delivery latency: from the moment the writer sent the put until a watcher received the event (the put's own " +
        'commit is inside it). Every watcher must receive every event, in revision order, once.',
      '',
    );
    out.push(
      '| workload | server | delivery p50 ms | delivery p99 ms | p99 × etcd | events missing (worst round) | put p99 ms | CPU % client / server | target | verdict |',
      '|---|---|---|---|---|---|---|---|---|---|',
    );
    for (const id of watchIds)
      for (const t of present) {
        const p99 = s.get(t, id, 'p99_ms');
        if (!p99) continue;
        const v = t === 'etcd' ? undefined : vOf(id, t);
        const dup = (s.get(t, id, 'duplicates')?.max ?? 0) + (s.get(t, id, 'out_of_order')?.max ?? 0);
        out.push(
          `| ${id} writes/s | ${t === 'etcd' ? 'etcd' : `strata ${t}`} | ${num(s.get(t, id, 'p50_ms')?.med)} | ${withSpread(p99)} | ${t === 'etcd' ? '' : fmtRatio(ratio(p99, s.get('etcd', id, 'p99_ms')))} | ${num(s.get(t, id, 'events_missing')?.max)}${dup ? ` (+${dup} duplicate/out of order)` : ''} | ${num(s.get(t, id, 'put_p99_ms')?.med)} | ${cpu(s, t, id)} | ${v?.target ?? ''} | ${metCell(v)} |`,
        );
      }
    out.push('');
  }

  if (present.some((t) => s.get(t, 'memory', 'rss_mib'))) {
    out.push(`### memory and restart: ${num(sizes.memKeys)} keys of ${num(sizes.memValueSize)} B`, '');
    out.push(
      'RSS of the server process (VmRSS) 1 s after loading the keys (txns of 100 puts, 8 in flight); for PostgreSQL and ' +
        "MySQL that is strata alone, the database server's memory is not included. Restart: SIGTERM, then the time from " +
        'spawning the server on the same database until it answers a linearizable get.',
      '',
    );
    out.push(
      '| server | RSS MiB | × etcd | RSS empty MiB | load s | restart s | RSS after restart MiB | RSS target | verdict | restart target | verdict |',
      '|---|---|---|---|---|---|---|---|---|---|---|',
    );
    for (const t of present) {
      const rss = s.get(t, 'memory', 'rss_mib');
      if (!rss) continue;
      const vm = t === 'etcd' ? undefined : vOf('memory', t);
      const vr = t === 'etcd' ? undefined : vOf('restart', t);
      out.push(
        `| ${t === 'etcd' ? 'etcd' : `strata ${t}`} | ${withSpread(rss)} | ${t === 'etcd' ? '' : fmtRatio(ratio(rss, s.get('etcd', 'memory', 'rss_mib')))} | ${num(s.get(t, 'memory', 'rss_empty_mib')?.med)} | ${num(s.get(t, 'memory', 'load_s')?.med)} | ${withSpread(s.get(t, 'restart', 'ready_s'))} | ${num(s.get(t, 'restart', 'rss_after_restart_mib')?.med)} | ${vm?.target ?? ''} | ${metCell(vm)} | ${vr?.target ?? ''} | ${metCell(vr)} |`,
      );
    }
    out.push('');
  }

  out.push('## This run', '');
  const m = s.machine;
  if (m)
    out.push(
      `- Machine: ${String(m.cores)} cores (${String(m.cpu_model)}), ${String(m.mem_gib)} GiB RAM, Linux ${String(m.kernel)}; ` +
        `Node ${String(m.node)}; etcd ${String(m.etcd)}; ${String(m.go)}; PostgreSQL ${String(m.postgres)}; MariaDB ${String(m.mariadb)}.`,
    );
  out.push(
    `- Run ${[...s.runs].join(', ')}: ${num(sizes.rounds)} round(s); in each, every target on a fresh data dir / database, each workload run on all targets back to back (order rotating per round, the others paused with SIGSTOP), then memory and restart one target at a time.`,
  );
  if (m?.strata_commit)
    out.push(
      `- strata: commit ${String(m.strata_commit)}${m.strata_src_dirty ? ', with uncommitted changes in src/ (built as found)' : ''}.`,
    );
  const la = s.loadAverages();
  if (la.length)
    out.push(
      `- Noise: the 1-minute load average during the run ranged ${num(Math.min(...la))}–${num(Math.max(...la))} on ${String(m?.cores ?? '?')} cores ` +
        '(the benchmark itself adds about 2; anything above is other work on this shared machine).',
    );
  for (const k of s.skips) out.push(`- Skipped ${String(k.target)}: ${String(k.reason)}`);
  for (const e of s.errors)
    out.push(
      `- Error (${String(e.target)}, round ${num(Number(e.round) + 1)}, ${String(e.id)}): ${String(e.error).split('\n')[0].slice(0, 300)}`,
    );
  out.push('');
  return out.join('\n');
}
