/** The benchmark's report: medians, ratios and the targets' verdicts, on hand-made result lines. */
import { describe, expect, it } from 'vitest';
import type { Line } from '../../bench/lib/loadgen';
import { median, renderTables, Results, verdicts } from '../../bench/lib/report';
import { componentOf, summarise, type CpuProfile } from '../../bench/lib/cpuprofile';

const r = (target: string, id: string, round: number, f: Record<string, number>): Line => ({ kind: 'result', target, id, round, ...f });

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
