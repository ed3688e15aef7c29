/**
 * /metrics with etcd's names: `promtool check metrics` on a real scrape, the etcd names and types
 * a dashboard reads, and the etcd mixin's alerts evaluated by `promtool test rules` against two
 * scrapes of a healthy strata and of a strata whose database (PostgreSQL, behind a proxy the test
 * cuts) is gone. The two scrapes of each are taken around some traffic; the rule test replays
 * them as 30 one-minute samples, each adding what was counted between the two scrapes.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { get } from '../gateway/http';
import { b, createClient, type EtcdClient } from '../helpers/client';
import { dbProxy, type DbProxy } from '../helpers/db-proxy';
import { haveTool, startStrata, type Server } from '../helpers/servers';
import { databaseFor, PG_BASE, testBackend } from '../helpers/targets';
import { waitFor } from '../helpers/ports';

const PROMTOOL = '/usr/bin/promtool';
const ALERTS = path.join(__dirname, 'fixtures/etcd-mixin-alerts.yml');
const have = haveTool(PROMTOOL, 'promtool', 'apt-get install -y prometheus');

/**
 * etcd itself serves these gauges with a _total suffix (and Node's default metrics do too), which
 * promtool's lint flags; strata keeps etcd's names, so these and only these lint findings pass.
 */
const ETCD_GAUGES_NAMED_TOTAL = [
  'etcd_debugging_mvcc_keys_total',
  'etcd_debugging_mvcc_watch_stream_total',
  'etcd_debugging_mvcc_watcher_total',
  'etcd_server_proposals_applied_total',
  'etcd_server_proposals_committed_total',
  'nodejs_active_handles_total',
  'nodejs_active_requests_total',
  'nodejs_active_resources_total',
];

function promtoolCheck(text: string): string[] {
  const r = spawnSync(PROMTOOL, ['check', 'metrics'], { input: text, encoding: 'utf8' });
  // 0: clean; 3: lint findings only; anything else: the text does not parse.
  expect([0, 3], r.stderr + r.stdout).toContain(r.status);
  return (r.stdout + r.stderr)
    .split('\n')
    .filter(Boolean)
    .filter((l) => !ETCD_GAUGES_NAMED_TOTAL.some((n) => l.startsWith(`${n} non-counter metrics should not have "_total" suffix`)));
}

function types(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const m of text.matchAll(/^# TYPE (\S+) (\S+)$/gm)) out.set(m[1], m[2]);
  return out;
}

/** promtool input series: every sample of the second scrape, stepping by what changed since the first. */
function inputSeries(first: string, second: string): Array<{ series: string; values: string }> {
  const parse = (text: string) => {
    const m = new Map<string, number>();
    for (const line of text.split('\n')) {
      if (!line || line.startsWith('#')) continue;
      const at = line.lastIndexOf(' ');
      m.set(line.slice(0, at), Number(line.slice(at + 1)));
    }
    return m;
  };
  const kinds = types(second);
  const kindOf = (name: string) => kinds.get(name) ?? kinds.get(name.replace(/_(bucket|sum|count)$/, '')) ?? 'gauge';
  const a = parse(first);
  const out: Array<{ series: string; values: string }> = [];
  for (const [key, v2] of parse(second)) {
    if (!Number.isFinite(v2)) continue;
    const brace = key.indexOf('{');
    const name = brace < 0 ? key : key.slice(0, brace);
    const labels = brace < 0 ? '' : key.slice(brace + 1, -1);
    const series = `${name}{${['job="etcd"', 'instance="strata"', labels].filter(Boolean).join(',')}}`;
    const v1 = a.get(key) ?? 0;
    const kind = kindOf(name);
    const cumulative = kind === 'counter' || kind === 'histogram';
    const d = v2 - v1;
    out.push({ series, values: cumulative && d >= 0 ? `${v1}+${d}x30` : `${v2}x30` });
  }
  out.push({ series: 'up{job="etcd",instance="strata"}', values: '1x30' });
  return out;
}

interface Expected {
  alertname: string;
  firing?: Record<string, string>[];
}

function ruleTest(dir: string, name: string, series: ReturnType<typeof inputSeries>, expected: Expected[]): void {
  const test = {
    rule_files: [ALERTS],
    evaluation_interval: '1m',
    tests: [
      {
        interval: '1m',
        input_series: series,
        alert_rule_test: expected.map((e) => ({
          eval_time: '25m',
          alertname: e.alertname,
          exp_alerts: (e.firing ?? []).map((labels) => ({ exp_labels: { job: 'etcd', instance: 'strata', ...labels } })),
        })),
      },
    ],
  };
  const file = path.join(dir, `${name}.test.yml`);
  writeFileSync(file, JSON.stringify(test, null, 1));
  const r = spawnSync(PROMTOOL, ['test', 'rules', file], { encoding: 'utf8' });
  expect(r.status, `${name}: promtool test rules\n${r.stdout}\n${r.stderr}`).toBe(0);
}

async function traffic(c: EtcdClient, n: number, serializable = false): Promise<number> {
  let failed = 0;
  for (let i = 0; i < n; i++) {
    await c.kv.Range({ key: b('k'), serializable }).catch(() => failed++);
  }
  return failed;
}

describe.runIf(have)('metrics', () => {
  let dir = '';
  beforeAll(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'strata-metrics-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  describe('a healthy strata', () => {
    let server: Server;
    let c: EtcdClient;
    beforeAll(async () => {
      server = await startStrata();
      c = createClient(server.address);
    });
    afterAll(async () => {
      c.close();
      expect(await server.stop()).toBe(0);
      server.cleanup();
    });

    it('passes promtool check metrics and serves etcd names with etcd types', async () => {
      await c.kv.Put({ key: b('k'), value: b('v') });
      await traffic(c, 3);
      const text = (await get(server.url, '/metrics')).text;
      expect(promtoolCheck(text)).toEqual([]);
      const t = types(text);
      for (const [name, type] of Object.entries({
        grpc_server_started_total: 'counter',
        grpc_server_handled_total: 'counter',
        grpc_server_handling_seconds: 'histogram',
        etcd_server_has_leader: 'gauge',
        etcd_server_leader_changes_seen_total: 'counter',
        etcd_mvcc_db_total_size_in_bytes: 'gauge',
        etcd_mvcc_db_total_size_in_use_in_bytes: 'gauge',
        etcd_server_quota_backend_bytes: 'gauge',
        etcd_disk_backend_commit_duration_seconds: 'histogram',
        etcd_debugging_mvcc_keys_total: 'gauge',
        etcd_debugging_mvcc_watcher_total: 'gauge',
        etcd_mvcc_put_total: 'counter',
        etcd_mvcc_delete_total: 'counter',
        etcd_mvcc_txn_total: 'counter',
        etcd_mvcc_range_total: 'counter',
        etcd_server_proposals_committed_total: 'gauge',
        strata_sql_total: 'counter',
        strata_sql_duration_seconds: 'histogram',
        strata_sql_errors_total: 'counter',
        strata_sql_retries_total: 'counter',
        strata_group_commit_batch_size: 'histogram',
        strata_auto_compactions_total: 'counter',
        strata_watch_lag_revisions: 'gauge',
        strata_sql_pool_connections: 'gauge',
        etcd_network_client_grpc_received_bytes_total: 'counter',
        etcd_network_client_grpc_sent_bytes_total: 'counter',
      })) {
        expect(t.get(name), name).toBe(type);
      }
      expect(text).toMatch(
        /^grpc_server_handled_total\{grpc_type="unary",grpc_service="etcdserverpb\.KV",grpc_method="Range",grpc_code="OK"\} 3$/m,
      );
      expect(text).toMatch(
        /^grpc_server_handling_seconds_bucket\{le="\+Inf",grpc_type="unary",grpc_service="etcdserverpb\.KV",grpc_method="Put"\} 1$/m,
      );
      expect(text).toMatch(/^etcd_server_has_leader 1$/m);
      expect(text).toMatch(/^etcd_server_quota_backend_bytes 2147483648$/m);
      expect(text).toMatch(/^etcd_debugging_mvcc_keys_total 1$/m);
      expect(text).toMatch(/^etcd_mvcc_put_total 1$/m);
      expect(text).toMatch(/^etcd_disk_backend_commit_duration_seconds_count [1-9]/m);
      expect(text).toMatch(/^strata_sql_total\{kind="write"\} [1-9]/m);
      expect(text).toMatch(/^strata_watch_lag_revisions 0$/m);
    });

    it('counts the bytes of gRPC connections, and more after more requests', async () => {
      const bytes = (text: string, side: string) =>
        Number(new RegExp(`^etcd_network_client_grpc_${side}_bytes_total (\\d+)$`, 'm').exec(text)?.[1] ?? NaN);
      const before = (await get(server.url, '/metrics')).text;
      await c.kv.Put({ key: b('big'), value: Buffer.alloc(50_000, 1) });
      await c.kv.Range({ key: b('big') });
      const after = (await get(server.url, '/metrics')).text;
      // A 50 kB value went in with the Put and came back with the Range.
      expect(bytes(after, 'received') - bytes(before, 'received')).toBeGreaterThan(50_000);
      expect(bytes(after, 'sent') - bytes(before, 'sent')).toBeGreaterThan(50_000);
    });

    it('the etcd mixin alerts stay quiet', async () => {
      const first = (await get(server.url, '/metrics')).text;
      await traffic(c, 20);
      for (let i = 0; i < 5; i++) await c.kv.Put({ key: b(`k${i}`), value: b('v') });
      const second = (await get(server.url, '/metrics')).text;
      ruleTest(dir, 'healthy', inputSeries(first, second), [
        { alertname: 'etcdMembersDown' },
        { alertname: 'etcdNoLeader' },
        { alertname: 'etcdHighNumberOfLeaderChanges' },
        { alertname: 'etcdHighNumberOfFailedGRPCRequests' },
        { alertname: 'etcdDatabaseQuotaLowSpace' },
        { alertname: 'etcdDatabaseHighFragmentationRatio' },
      ]);
    });
  });

  const pg = testBackend('postgres');
  describe.runIf(pg)('a strata whose database is gone', () => {
    let proxy: DbProxy;
    let server: Server;
    let c: EtcdClient;
    beforeAll(async () => {
      const u = new URL(PG_BASE);
      proxy = await dbProxy({ host: u.hostname, port: Number(u.port || 5432) });
      server = await startStrata({
        endpoint: (d) =>
          `postgres://${u.username}${u.password ? `:${u.password}` : ''}@127.0.0.1:${proxy.port}/${databaseFor(d)}?sslmode=disable`,
        // Every linearizable Range fails once the database is cut (not only after the solo lease's TTL).
        args: ['--solo-reads', 'off'],
        onCleanup: (d) => pg!.drop(d),
      });
      c = createClient(server.address);
    });
    afterAll(async () => {
      c.close();
      await proxy.open();
      expect(await server.stop()).toBe(0);
      server.cleanup();
      await proxy.cut();
    });

    it('etcdNoLeader and etcdHighNumberOfFailedGRPCRequests fire; the rest stay quiet', async () => {
      await traffic(c, 5);
      await proxy.cut();
      const first = (await get(server.url, '/metrics')).text;
      expect(first).toMatch(/^etcd_server_has_leader 0$/m);
      expect(promtoolCheck(first)).toEqual([]);
      expect(await traffic(c, 10)).toBe(10);
      await traffic(c, 10, true);
      const second = (await get(server.url, '/metrics')).text;
      ruleTest(dir, 'database-less', inputSeries(first, second), [
        { alertname: 'etcdMembersDown' },
        { alertname: 'etcdNoLeader', firing: [{ severity: 'critical' }] },
        {
          alertname: 'etcdHighNumberOfFailedGRPCRequests',
          firing: [{ severity: 'critical', grpc_service: 'etcdserverpb.KV', grpc_method: 'Range' }],
        },
        { alertname: 'etcdDatabaseQuotaLowSpace' },
      ]);
      await proxy.open();
      await waitFor(async () => /^etcd_server_has_leader 1$/m.test((await get(server.url, '/metrics')).text), 15_000, 'has_leader back');
      expect((await get(server.url, '/metrics')).text).toMatch(/^etcd_server_leader_changes_seen_total 2$/m);
    }, 60_000);
  });
});
