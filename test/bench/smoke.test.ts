/**
 * A smoke run of the benchmark (`npm run bench` is not part of `npm test`): build the Go load
 * generator offline, run every workload with tiny sizes against strata on SQLite through the same
 * runner the benchmark uses, and check that every JSON line is sane and the report renders.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { buildLoadgen, CLIENTV3_DIR, GO_BIN, type Line } from '../../bench/lib/loadgen';
import { SMOKE, workloads } from '../../bench/lib/plan';
import { renderTables } from '../../bench/lib/report';
import { SCALE_SMOKE } from '../../bench/lib/scale';
import { renderScale } from '../../bench/lib/scale-report';
import { runBench } from '../../bench/lib/runner';
import { haveTool } from '../helpers/servers';

const ready =
  haveTool(GO_BIN, 'go (Debian package golang-go)') &&
  haveTool(CLIENTV3_DIR, "etcd's Go client sources (Debian package golang-etcd-server-dev)");

const n = (l: Line, k: string) => Number(l[k]);

describe.skipIf(!ready)('benchmark smoke run (strata on SQLite, tiny sizes)', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'strata-bench-smoke-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('builds the load generator, runs every workload and reports sane figures', async () => {
    const loadgen = buildLoadgen(path.join(dir, 'loadgen'));
    const lines = await runBench({ sizes: SMOKE, targets: ['sqlite'], loadgen });

    expect(lines.filter((l) => l.kind === 'error')).toEqual([]);
    expect(lines.filter((l) => l.kind === 'skip')).toEqual([]);
    const machine = lines.find((l) => l.kind === 'machine');
    expect(n(machine!, 'cores')).toBeGreaterThan(0);

    const results = lines.filter((l) => l.kind === 'result' && l.target === 'sqlite');
    const byId = new Map(results.map((l) => [String(l.id), l]));
    for (const w of workloads(SMOKE)) {
      const l = byId.get(w.id);
      expect(l, `a result line for ${w.id}`).toBeDefined();
      if (!l) continue;
      expect(n(l, 'errors'), `${w.id}: ${String(l.first_error)}`).toBe(0);
      expect(n(l, 'p50_ms'), w.id).toBeGreaterThan(0);
      expect(n(l, 'p99_ms'), w.id).toBeGreaterThanOrEqual(n(l, 'p50_ms'));
      expect(n(l, 'max_ms'), w.id).toBeGreaterThanOrEqual(n(l, 'p99_ms'));
      expect(n(l, 'client_cpu_s'), w.id).toBeGreaterThan(0);
      expect(n(l, 'server_cpu_s'), w.id).toBeGreaterThan(0);
      for (const check of ['bad_responses', 'conflicts', 'not_succeeded']) if (check in l) expect(n(l, check), `${w.id} ${check}`).toBe(0);
      if (w.group === 'watch') {
        expect(n(l, 'puts'), w.id).toBeGreaterThan(0);
        expect(n(l, 'events_received'), w.id).toBe(n(l, 'puts') * SMOKE.watchers);
        expect(n(l, 'events_missing'), w.id).toBe(0);
        expect(n(l, 'duplicates') + n(l, 'out_of_order'), w.id).toBe(0);
      } else {
        expect(n(l, 'ops'), w.id).toBeGreaterThan(0);
        expect(n(l, 'ops_per_s'), w.id).toBeCloseTo(n(l, 'ops') / Number(String(w.args.duration).replace('s', '')), 0);
        expect(n(l, 'duration_s'), w.id).toBeGreaterThanOrEqual(Number(String(w.args.duration).replace('s', '')) * 0.95);
      }
    }
    const mem = byId.get('memory')!;
    expect(n(mem, 'rss_mib')).toBeGreaterThan(10);
    expect(n(mem, 'keys')).toBe(SMOKE.memKeys);
    const restart = byId.get('restart')!;
    expect(n(restart, 'ready_s')).toBeGreaterThan(0);
    expect(n(restart, 'ready_s')).toBeLessThan(30);
    expect(n(restart, 'stop_exit_code')).toBe(0);

    const md = renderTables(lines);
    expect(md).toMatch(/\| put-1 \| strata sqlite \| [\d,.]+ \|/);
    expect(md).toMatch(/\| watch-100 writes\/s \| strata sqlite \|/);
    expect(md).toMatch(/\| strata sqlite \| [\d,.]+ \|/); // the memory row
    expect(md).toMatch(/\| put-8 \| 8 \| strata sqlite \| [\d,.]+ \|/); // the many-connection table
    expect(n(byId.get('put-8/conns-8')!, 'conns')).toBe(8);
    expect(n(byId.get('put-8')!, 'conns')).toBe(1);
  }, 240_000);

  it('runs the scale workload with tiny sizes: load, overwrite, restart, compaction beside puts and gets', async () => {
    const loadgen = buildLoadgen(path.join(dir, 'loadgen'));
    const lines = await runBench({ sizes: SMOKE, targets: ['sqlite'], loadgen, only: [], skipMemory: true, scale: SCALE_SMOKE });

    expect(lines.filter((l) => l.kind === 'error')).toEqual([]);
    // No round ran: the scale workload alone.
    expect(lines.filter((l) => l.kind === 'result' && l.group !== 'scale')).toEqual([]);
    const of = (id: string) => lines.find((l) => l.kind === 'result' && l.id === id)!;
    const load = of('scale-load');
    expect(n(load, 'keys')).toBe(SCALE_SMOKE.keys);
    expect(n(load, 'requests')).toBe(SCALE_SMOKE.keys); // plain puts, one key each
    expect(n(load, 'max_ms')).toBeGreaterThanOrEqual(n(load, 'p99_ms'));
    expect(n(load, 'rss_mib')).toBeGreaterThan(10);
    expect(n(load, 'rss_peak_mib')).toBeGreaterThan(10);
    expect(n(load, 'disk_mib')).toBeGreaterThan(0);
    const history = of('scale-history');
    expect(n(history, 'requests')).toBe(Math.ceil(SCALE_SMOKE.keys / SCALE_SMOKE.historyBatch));
    expect(n(history, 'rss_mib')).toBeGreaterThan(10);
    const restart = of('scale-restart');
    expect(n(restart, 'ready_s')).toBeGreaterThan(0);
    expect(n(restart, 'stop_exit_code')).toBe(0);
    const compact = of('scale-compact');
    // Two fills of every key, one revision each (the overwrite's txns one per batch), then the background puts.
    expect(n(compact, 'compact_revision')).toBeGreaterThan(SCALE_SMOKE.keys + SCALE_SMOKE.keys / SCALE_SMOKE.historyBatch);
    expect(n(compact, 'puts')).toBeGreaterThan(0);
    expect(n(compact, 'gets')).toBeGreaterThan(0);
    expect(n(compact, 'put_errors') + n(compact, 'get_errors') + n(compact, 'bad_responses')).toBe(0);
    expect(n(compact, 'put_max_ms')).toBeGreaterThanOrEqual(n(compact, 'put_p99_ms'));
    expect(n(compact, 'rss_mib')).toBeGreaterThan(10);

    const md = renderScale(lines).join('\n');
    expect(md).toContain(`## Scale: ${SCALE_SMOKE.keys.toLocaleString('en-US')} keys × 256 B`);
    expect(md).toMatch(/\| strata sqlite \| [\d,.]+ \|/);
    expect(md).toContain(
      '| restart until a linearizable get | sqlite | ≤ etcd | no etcd figure in this run | n/a (no etcd figure in this run) |',
    );
    expect(md).toMatch(/\| worst put\/get latency during the compaction \| sqlite \| ≤ 50 ms \| [\d,.]+ ms/);
  }, 240_000);
});
