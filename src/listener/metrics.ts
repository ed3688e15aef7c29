/**
 * GET /metrics in Prometheus' text format, from a registry of this app's own (never prom-client's
 * global one, so two strata apps in one process do not mix): etcd's metric names where a strata
 * quantity matches (README: Metrics), and strata's own. Gauges are read from the store when
 * scraped; counters on the request path are bound label children.
 */
import * as grpc from '@grpc/grpc-js';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { collectDefaultMetrics, Counter, Gauge, Registry } from 'prom-client';
import type { Code } from '../errors';
import { ClientTraffic } from './client-traffic';
import { FastMetrics } from './fast-metrics';
import { GrpcMetrics } from './grpc-metrics';
import { SqlMetrics } from './sql-metrics';
import { collectedCounter } from './collected-counter';

interface MetricSources {
  revision(): number;
  compactRevision(): number;
  keys(): number;
  dbSize(): Promise<{ size: number; inUse: number }>;
  quota(): { quotaBytes: number; sizeBytes: number };
  /** Resolves when the database answers (has_leader); bounded by the caller. */
  probe(): Promise<unknown>;
  /** How many database outages ended (etcd_server_leader_changes_seen_total counts 1 + this). */
  recoveries(): number;
  /** Open long-lived calls by kind (watch, keepalive, lock, election). */
  streams(): Array<{ kind: string }>;
  watch(): { streams: number; watchers: number };
  autoCompactions(): { compacted: number; skipped: number; failed: number };
  pool(): { inUse: number; idle: number } | undefined;
  /** The endpoint's hosts (host:port, never credentials): answering, and the one taking new connections. */
  hosts(): Array<{ host: string; up: boolean; active: boolean }>;
  alarms(): string[];
  /** Committed revisions this instance has not applied yet. */
  watchLag(): Promise<number>;
  /** Whether this instance holds the solo lease (src/log/solo.ts). */
  soloLeaseHeld(): boolean;
  version: string;
}

const PROBE_TIMEOUT_MS = 1000;

export class Metrics {
  readonly registry = new Registry();
  /** The request-path families (rendered after the registry's). */
  private readonly fast = new FastMetrics();
  readonly sql = new SqlMetrics(this.fast);
  /** The gRPC connections' bytes; the listener hands it every gRPC connection. */
  readonly clientTraffic = new ClientTraffic();
  private readonly grpc: GrpcMetrics;
  private src: MetricSources | undefined;

  constructor() {
    collectDefaultMetrics({ register: this.registry });
    const counter = (name: string, help: string) => this.fast.counter(name, help).child();
    this.grpc = new GrpcMetrics(this.fast, {
      Range: counter('etcd_mvcc_range_total', 'Total number of ranges seen by this member.'),
      Put: counter('etcd_mvcc_put_total', 'Total number of puts seen by this member.'),
      DeleteRange: counter('etcd_mvcc_delete_total', 'Total number of deletes seen by this member.'),
      Txn: counter('etcd_mvcc_txn_total', 'Total number of txns seen by this member.'),
    });
    this.gauges();
  }

  /** The store's readings, once it is open; until then the gauges read as a member without data. */
  attach(src: MetricSources): void {
    this.src = src;
  }

  private gauges(): void {
    const registers = [this.registry];
    const current = (): MetricSources | undefined => this.src;
    const gauge = (name: string, help: string, read: (s: MetricSources) => number | Promise<number>) =>
      new Gauge({
        name,
        help,
        registers,
        async collect() {
          const src = current();
          if (!src) return;
          try {
            this.set(await read(src));
          } catch {
            // The database is away: the last value stands (has_leader tells the outage).
          }
        },
      });
    gauge('etcd_server_has_leader', 'Whether or not a leader exists. 1 is existence, 0 is not (strata: the database answers).', (s) =>
      reachable(s).then((ok) => (ok ? 1 : 0)),
    );
    gauge('etcd_server_is_leader', 'Whether or not this member is a leader (strata: the database answers).', (s) =>
      reachable(s).then((ok) => (ok ? 1 : 0)),
    );
    const traffic = this.clientTraffic;
    for (const [name, help, side] of [
      ['etcd_network_client_grpc_received_bytes_total', 'The total number of bytes received from grpc clients.', 'received'],
      ['etcd_network_client_grpc_sent_bytes_total', 'The total number of bytes sent to grpc clients.', 'sent'],
    ] as const) {
      collectedCounter(registers, name, help, () => traffic.totals()[side]);
    }
    new Counter({
      name: 'etcd_server_leader_changes_seen_total',
      help: 'The number of leader changes seen (strata: 1 at start, then one per database outage that ended).',
      registers,
      collect() {
        const src = current();
        if (!src) return;
        this.reset();
        this.inc(1 + src.recoveries());
      },
    });
    gauge('etcd_mvcc_db_total_size_in_bytes', 'Total size of the underlying database physically allocated in bytes.', (s) =>
      s.dbSize().then((d) => d.size),
    );
    gauge('etcd_mvcc_db_total_size_in_use_in_bytes', 'Total size of the underlying database logically in use in bytes.', (s) =>
      s.dbSize().then((d) => d.inUse),
    );
    gauge('etcd_server_quota_backend_bytes', 'Current backend storage quota size in bytes.', (s) => s.quota().quotaBytes);
    gauge('etcd_debugging_mvcc_keys_total', 'Total number of keys.', (s) => s.keys());
    gauge('etcd_debugging_mvcc_watcher_total', 'Total number of watchers.', (s) => s.watch().watchers);
    gauge(
      'strata_watch_lag_revisions',
      'Committed revisions this instance has not applied yet (what its watches trail the database by)',
      (s) => s.watchLag(),
    );
    gauge('etcd_debugging_mvcc_watch_stream_total', 'Total number of watch streams.', (s) => s.watch().streams);
    gauge('etcd_mvcc_db_compaction_revision', 'strata: the compact revision (reads below it fail).', (s) => s.compactRevision());
    gauge('etcd_server_proposals_committed_total', 'The total number of consensus proposals committed (strata: the revision).', (s) =>
      s.revision(),
    );
    gauge('etcd_server_proposals_applied_total', 'The total number of consensus proposals applied (strata: the revision).', (s) =>
      s.revision(),
    );
    gauge('etcd_server_proposals_pending', 'The current number of pending proposals to commit.', () => 0);
    gauge('strata_revision', 'Current revision of the key space', (s) => s.revision());
    gauge('strata_db_size_bytes', 'Bytes the database occupies', (s) => s.dbSize().then((d) => d.size));
    gauge('strata_db_size_in_use_bytes', 'Bytes of the database holding live data', (s) => s.dbSize().then((d) => d.inUse));
    gauge('strata_solo_lease_held', 'Whether this instance holds the solo lease: linearizable reads need no SQL (1) or not (0)', (s) =>
      s.soloLeaseHeld() ? 1 : 0,
    );
    gauge('strata_quota_size_bytes', 'The size the space quota is checked against', (s) => s.quota().sizeBytes);
    new Gauge({
      name: 'etcd_server_version',
      help: 'Which version is running. 1 for the version label with the current version.',
      labelNames: ['server_version'],
      registers,
      collect() {
        const src = current();
        if (src) this.set({ server_version: src.version }, 1);
      },
    });
    new Gauge({
      name: 'strata_alarms',
      help: 'Alarms raised now, by type (NOSPACE, CORRUPT)',
      labelNames: ['alarm'],
      registers,
      collect() {
        const src = current();
        if (!src) return;
        const raised = src.alarms();
        for (const alarm of ['NOSPACE', 'CORRUPT']) this.set({ alarm }, raised.includes(alarm) ? 1 : 0);
      },
    });
    new Gauge({
      name: 'strata_streams',
      help: 'Open long-lived calls by kind: watch and lease keepalive streams, waiting Lock and Campaign calls, election Observe streams (gRPC and gateway)',
      labelNames: ['kind'],
      registers,
      collect() {
        const src = current();
        if (!src) return;
        const counts = { watch: 0, keepalive: 0, lock: 0, election: 0 } as Record<string, number>;
        for (const s of src.streams()) counts[s.kind] = (counts[s.kind] ?? 0) + 1;
        for (const [kind, n] of Object.entries(counts)) this.set({ kind }, n);
      },
    });
    new Counter({
      name: 'strata_auto_compactions_total',
      help: 'Auto compaction attempts by result (compacted; skipped: already compacted that far; failed)',
      labelNames: ['result'],
      registers,
      collect() {
        const src = current();
        if (!src) return;
        this.reset();
        for (const [result, n] of Object.entries(src.autoCompactions())) this.inc({ result }, n);
      },
    });
    new Gauge({
      name: 'strata_sql_pool_connections',
      help: 'Database connections of the pool, by state (in_use, idle)',
      labelNames: ['state'],
      registers,
      collect() {
        const p = current()?.pool();
        if (!p) return;
        this.set({ state: 'in_use' }, p.inUse);
        this.set({ state: 'idle' }, p.idle);
      },
    });
    new Gauge({
      name: 'strata_datastore_host_up',
      help: "Whether each host of the datastore endpoint answers strata's check (1) or not (0)",
      labelNames: ['host'],
      registers,
      collect() {
        this.reset();
        for (const h of current()?.hosts() ?? []) this.set({ host: h.host }, h.up ? 1 : 0);
      },
    });
    new Gauge({
      name: 'strata_datastore_host_active',
      help: 'The host of the datastore endpoint that new database connections go to (1), the others 0',
      labelNames: ['host'],
      registers,
      collect() {
        this.reset();
        for (const h of current()?.hosts() ?? []) this.set({ host: h.host }, h.active ? 1 : 0);
      },
    });
  }

  /** A finished gateway request (gRPC calls are counted by the interceptor). */
  observeGateway(service: string, method: string, code: Code | number): void {
    this.grpc.observeGateway(service, method, code);
  }

  /** Counts every gRPC call with the status it ends with, and times it. */
  grpcInterceptor(): grpc.ServerInterceptor {
    return this.grpc.interceptor();
  }

  serve(_req: IncomingMessage, res: ServerResponse): void {
    this.registry.metrics().then(
      (text) => {
        res.writeHead(200, { 'Content-Type': this.registry.contentType });
        res.end(text + this.fast.text());
      },
      (e: unknown) => {
        res.writeHead(500, { 'Content-Type': 'text/plain; charset=utf-8' });
        res.end(`${(e as Error).message}\n`);
      },
    );
  }
}

async function reachable(s: MetricSources): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([s.probe(), new Promise((_, reject) => (timer = setTimeout(() => reject(new Error('timeout')), PROBE_TIMEOUT_MS)))]);
    return true;
  } catch {
    return false;
  } finally {
    clearTimeout(timer);
  }
}
