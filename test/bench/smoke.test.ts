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
  }, 240_000);
});
