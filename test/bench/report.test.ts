/** The benchmark's report: medians, ratios and the targets' verdicts, on hand-made result lines. */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { MARKER, writeDocs } from '../../bench/lib/docs';
import type { Line } from '../../bench/lib/loadgen';
import { median, renderTables, Results, verdicts } from '../../bench/lib/report';
import { renderScale, scaleVerdicts } from '../../bench/lib/scale-report';
import { componentOf, summarise, type CpuProfile } from '../../bench/lib/cpuprofile';

const r = (target: string, id: string, round: number, f: Record<string, number>): Line => ({ kind: 'result', target, id, round, ...f });
const sc = (target: string, id: string, f: Record<string, number>): Line => ({
  kind: 'result',
  group: 'scale',
  target,
  id,
  round: 0,
  ...f,
});

describe('benchmark report', () => {
  it('takes medians over rounds', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 2, 3])).toBe(2.5);
    expect(median([NaN, 5])).toBe(5);
    const s = new Results([
      r('etcd', 'put-64', 0, { ops_per_s: 100 }),
      r('etcd', 'put-64', 1, { ops_per_s: 300 }),
      r('etcd', 'put-64', 2, { ops_per_s: 200 }),
    ]);
    expect(s.get('etcd', 'put-64', 'ops_per_s')).toEqual({ med: 200, min: 100, max: 300, n: 3 });
  });

  it('judges the targets on ratios of medians, p99 included for put-64 on SQLite', () => {
    const lines = [
      r('etcd', 'put-64', 0, { ops_per_s: 10_000, p99_ms: 10 }),
      r('sqlite', 'put-64', 0, { ops_per_s: 16_000, p99_ms: 9 }),
      r('postgres', 'put-64', 0, { ops_per_s: 9_000, p99_ms: 5 }),
      r('etcd', 'range-count', 0, { ops_per_s: 300 }),
      r('sqlite', 'range-count', 0, { ops_per_s: 1_200 }),
      r('etcd', 'watch-100', 0, { p99_ms: 5, events_missing: 0 }),
      r('sqlite', 'watch-100', 0, { p99_ms: 4, events_missing: 1 }),
      r('sqlite', 'restart', 0, { ready_s: 4.2 }),
      r('etcd', 'memory', 0, { rss_mib: 200 }),
      r('sqlite', 'memory', 0, { rss_mib: 310 }),
    ];
    const v = verdicts(new Results(lines));
    const of = (id: string, b: string) => v.find((x) => x.id === id && x.backend === b)!;
    expect(of('put-64', 'sqlite').met).toBe(true);
    expect(of('put-64', 'postgres').met).toBe(false);
    expect(of('put-64', 'postgres').detail).toContain('short by 10%');
    expect(of('range-count', 'sqlite').met).toBe(false); // 4× < 5×
    expect(of('watch-100', 'sqlite').met).toBe(false); // an event went missing
    expect(of('restart', 'sqlite').met).toBe(true);
    expect(of('memory', 'sqlite').met).toBe(false); // 1.55× > 1.5×
    expect(renderTables(lines)).toContain('| put-64 | strata sqlite | 16,000 | 1.60× |');
  });

  it("judges issue 15's list: put-1/16/256, txn-create/update-16 and get-lin-1 on the backends they name", () => {
    const lines = [
      r('etcd', 'put-1', 0, { ops_per_s: 1_700 }),
      r('postgres', 'put-1', 0, { ops_per_s: 850 }),
      r('sqlite', 'put-1', 0, { ops_per_s: 1_900 }),
      r('etcd', 'put-256', 0, { ops_per_s: 20_000 }),
      r('sqlite', 'put-256', 0, { ops_per_s: 21_000 }),
      r('mysql', 'put-256', 0, { ops_per_s: 9_000 }),
      r('etcd', 'txn-create-16', 0, { ops_per_s: 2_800 }),
      r('mysql', 'txn-create-16', 0, { ops_per_s: 4_200 }),
      r('etcd', 'get-lin-1', 0, { ops_per_s: 2_300 }),
      r('postgres', 'get-lin-1', 0, { ops_per_s: 1_150 }),
    ];
    const v = verdicts(new Results(lines));
    const of = (id: string, b: string) => v.find((x) => x.id === id && x.backend === b);
    expect(of('put-1', 'postgres')).toMatchObject({ met: false, target: '≥ 1.0× ops/s' });
    expect(of('put-1', 'postgres')!.detail).toBe("0.50× etcd's ops/s — needs 1.0×, short by 50%");
    expect(of('put-1', 'sqlite')).toBeUndefined(); // no SQLite target for put-1
    expect(of('put-256', 'sqlite')?.met).toBe(true);
    expect(of('put-256', 'mysql')).toBeUndefined();
    expect(of('txn-create-16', 'mysql')).toMatchObject({ met: true, target: '≥ 1.5× ops/s' });
    expect(of('get-lin-1', 'postgres')!.detail).toContain('short by 50%');
  });

  it("holds the many-connection shape to its workload's target and tables it beside the one-connection figure", () => {
    const lines = [
      r('etcd', 'put-64', 0, { ops_per_s: 10_000, p99_ms: 10 }),
      r('sqlite', 'put-64', 0, { ops_per_s: 6_000, p99_ms: 20 }),
      r('etcd', 'put-64/conns-16', 0, { ops_per_s: 12_000, p99_ms: 8 }),
      r('sqlite', 'put-64/conns-16', 0, { ops_per_s: 18_000, p99_ms: 12 }),
    ];
    const v = verdicts(new Results(lines));
    const one = v.find((x) => x.id === 'put-64')!;
    const many = v.find((x) => x.id === 'put-64/conns-16')!;
    expect(one.met).toBe(false);
    expect(one.detail).toBe("0.60× etcd's ops/s; p99 20 ms vs etcd 10 ms — needs 1.5×, short by 60%; p99 100% above etcd's");
    expect(many.target).toBe('≥ 1.5× ops/s, p99 ≤ etcd');
    expect(many.met).toBe(false); // 1.5× but p99 above etcd's
    expect(many.detail).toContain("p99 50% above etcd's");
    expect(many.detail).not.toContain('short by');
    const md = renderTables(lines);
    // The variant has its own table, not a row among the one-connection puts.
    expect(md).not.toContain('| put-64/conns-16 | strata sqlite |');
    expect(md).toContain('| put-64 | 16 | strata sqlite | 18,000 | 1.50× | — | 12 | 1.50× | 6,000 | 0.60× | 3.00× |');
    expect(md).toContain('| put-64/conns-16 | sqlite | ≥ 1.5× ops/s, p99 ≤ etcd |');
  });

  it('says by how much a watch, memory or restart target is missed', () => {
    const lines = [
      r('etcd', 'watch-1000', 0, { p99_ms: 20, events_missing: 0 }),
      r('mysql', 'watch-1000', 0, { p99_ms: 30, events_missing: 3 }),
      r('etcd', 'memory', 0, { rss_mib: 200 }),
      r('mysql', 'memory', 0, { rss_mib: 360 }),
      r('mysql', 'restart', 0, { ready_s: 6.5 }),
    ];
    const v = verdicts(new Results(lines));
    const of = (id: string) => v.find((x) => x.id === id && x.backend === 'mysql')!.detail;
    expect(of('watch-1000')).toContain("— 3 events missing, p99 50% above etcd's");
    expect(of('memory')).toContain('— 20% over the 1.5× bound');
    expect(of('restart')).toBe('6.50 s — 1.50 s over');
  });

  it('judges the scale workload: against etcd on the same data, and the compaction against 50 ms', () => {
    const lines = [
      sc('etcd', 'scale-load', { max_ms: 80, rss_mib: 560, keys: 1_000_000, value_size: 256, conc: 64 }),
      sc('sqlite', 'scale-load', { max_ms: 150, rss_mib: 1_500, keys: 1_000_000, value_size: 256, conc: 64 }),
      sc('etcd', 'scale-history', { rss_mib: 700 }),
      sc('sqlite', 'scale-history', { rss_mib: 600 }),
      sc('etcd', 'scale-restart', { ready_s: 4.6 }),
      sc('sqlite', 'scale-restart', { ready_s: 2.1 }),
      sc('etcd', 'scale-compact', { put_max_ms: 10, get_max_ms: 9, rss_mib: 600 }),
      sc('sqlite', 'scale-compact', { put_max_ms: 30, get_max_ms: 75, rss_mib: 500 }),
    ];
    const v = scaleVerdicts(lines);
    const of = (figure: string) => v.find((x) => x.id === figure && x.backend === 'sqlite')!;
    expect(of('worst put latency during the load')).toMatchObject({ met: true, target: '≤ 2× etcd' });
    expect(of('RSS after the load')).toMatchObject({ met: false });
    expect(of('RSS after the load').detail).toBe('1,500 MiB vs etcd 560 MiB (2.68×) — 940 MiB (168%) over the bound');
    expect(of('RSS with every key overwritten once').met).toBe(true);
    expect(of('restart until a linearizable get').detail).toBe('2.10 s vs etcd 4.60 s (0.46×)');
    expect(of('worst put/get latency during the compaction')).toMatchObject({ met: false, detail: '75 ms — 25 ms (50%) over the bound' });
    expect(of('RSS after the compaction').met).toBe(true);
    const stuck = [
      ...lines.filter((l) => l.id !== 'scale-compact' || l.target === 'etcd'),
      sc('sqlite', 'scale-compact', { put_max_ms: 20, get_max_ms: 30, rss_mib: 500, compact_s: 180 }),
    ].map((l) => (l.id === 'scale-compact' ? { ...l, compact_finished: l.target === 'etcd' } : l));
    const late = scaleVerdicts(stuck).find((x) => x.id === 'worst put/get latency during the compaction')!;
    expect(late).toMatchObject({ met: true, detail: '30 ms (the compaction had not finished after 180 s)' });
    expect(renderScale(stuck).join('\n')).toContain('| 2.10 | unfinished after 180 s |');
    const md = renderScale(lines).join('\n');
    expect(md).toContain('## Scale: 1,000,000 keys × 256 B');
    expect(md).toContain('| strata sqlite | — | — | 150 | 1,500 |');
    // The scale lines stay out of the run's tables and verdicts.
    expect(verdicts(new Results(lines.filter((l) => l.group !== 'scale')))).toEqual([]);
    expect(renderTables(lines)).not.toContain('scale-');
  });

  it('rewrites the tables and keeps the scale section of an earlier run, and the other way round', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'strata-bench-docs-'));
    try {
      const file = path.join(dir, 'benchmarks.md');
      writeFileSync(file, `old\n${MARKER}\n\n## Hand-written\n\nkept text\n`);
      const main = [r('etcd', 'put-64', 0, { ops_per_s: 10_000, p99_ms: 10 }), r('sqlite', 'put-64', 0, { ops_per_s: 16_000, p99_ms: 9 })];
      const scale = [sc('etcd', 'scale-restart', { ready_s: 4.6 }), sc('sqlite', 'scale-restart', { ready_s: 3.1 })];
      writeDocs(file, [{ file: 'bench/results/a.jsonl', lines: main }]);
      let doc = readFileSync(file, 'utf8');
      expect(doc).toContain('Raw results of this run: [bench/results/a.jsonl]');
      expect(doc).not.toContain('## Scale');
      expect(doc).toContain('kept text');
      writeDocs(file, [{ file: 'bench/results/s.jsonl', lines: scale }]);
      doc = readFileSync(file, 'utf8');
      expect(doc).toContain('| put-64 | strata sqlite | 16,000 | 1.60× |'); // the tables of run a, kept
      expect(doc).toContain('Raw results of the scale run: [bench/results/s.jsonl]');
      expect(doc).toContain('| restart until a linearizable get | sqlite | ≤ etcd | 3.10 s vs etcd 4.60 s (0.67×) | **met** |');
      writeDocs(file, [{ file: 'bench/results/b.jsonl', lines: main.map((l) => ({ ...l, ops_per_s: 20_000 })) }]);
      doc = readFileSync(file, 'utf8');
      expect(doc).toContain('Raw results of this run: [bench/results/b.jsonl]');
      expect(doc).not.toContain('bench/results/a.jsonl');
      expect(doc).toContain('Raw results of the scale run: [bench/results/s.jsonl]'); // kept
      expect(doc.indexOf('## Scale')).toBeLessThan(doc.indexOf(MARKER));
      expect(doc.split(MARKER)[1]).toBe('\n\n## Hand-written\n\nkept text\n');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("summarises a CPU profile's self time per function and component", () => {
    const frame = (functionName: string, url: string) => ({ functionName, url, lineNumber: 0, columnNumber: 0 });
    const profile: CpuProfile = {
      nodes: [
        { id: 1, callFrame: frame('(root)', ''), children: [2, 3] },
        { id: 2, callFrame: frame('(idle)', '') },
        { id: 3, callFrame: frame('put', 'file:///x/dist/mvcc/store.js'), children: [4] },
        { id: 4, callFrame: frame('encode', 'file:///x/node_modules/protobufjs/src/writer.js') },
      ],
      startTime: 0,
      endTime: 1000,
      samples: [2, 3, 4, 4, 4],
      timeDeltas: [500, 100, 100, 100, 100],
    };
    const s = summarise(profile);
    expect(s.idleMs).toBe(0.5);
    expect(s.busyMs).toBeCloseTo(0.4);
    expect(s.functions[0]).toMatchObject({ name: 'encode', component: 'protobufjs', selfPct: 75, totalPct: 75 });
    expect(s.strataTotals[0]).toMatchObject({ name: 'put', where: 'dist/mvcc/store.js:1', selfPct: 25, totalPct: 100 });
    expect(componentOf(frame('(garbage collector)', ''))).toBe('GC');
  });
});
