/**
 * GET /metrics in Prometheus' text format, from a registry of this app's own (never prom-client's
 * global one, so two strata apps in one process do not mix). Requests are counted for gRPC (a
 * server interceptor sees each call's final status) and for the gateway alike.
 */
import * as grpc from '@grpc/grpc-js';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { collectDefaultMetrics, Counter, Gauge, Registry } from 'prom-client';
import type { Code } from '../errors';

export interface MetricSources {
  revision(): number;
  dbSize(): Promise<{ size: number; inUse: number }>;
  /** Open long-lived streams by kind (watch, keepalive). */
  streams(): Array<{ kind: string }>;
}

export class Metrics {
  readonly registry = new Registry();
  private readonly requests: Counter<'service' | 'method' | 'transport' | 'code'>;

  constructor(src: MetricSources) {
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry });
    this.requests = new Counter({
      name: 'strata_requests_total',
      help: 'etcd API requests finished, by service, method, transport (grpc or gateway) and gRPC status code',
      labelNames: ['service', 'method', 'transport', 'code'],
      registers,
    });
    new Gauge({
      name: 'strata_streams',
      help: 'Open watch and lease keepalive streams (gRPC and gateway)',
      labelNames: ['kind'],
      registers,
      collect() {
        const counts = { watch: 0, keepalive: 0 } as Record<string, number>;
        for (const s of src.streams()) counts[s.kind] = (counts[s.kind] ?? 0) + 1;
        for (const [kind, n] of Object.entries(counts)) this.set({ kind }, n);
      },
    });
    new Gauge({
      name: 'strata_revision',
      help: 'Current revision of the key space',
      registers,
      collect() {
        this.set(src.revision());
      },
    });
    new Gauge({
      name: 'strata_db_size_bytes',
      help: 'Bytes the database occupies',
      registers,
      async collect() {
        this.set((await src.dbSize()).size);
      },
    });
    new Gauge({
      name: 'strata_db_size_in_use_bytes',
      help: 'Bytes of the database holding live data',
      registers,
      async collect() {
        this.set((await src.dbSize()).inUse);
      },
    });
  }

  observe(transport: 'grpc' | 'gateway', service: string, method: string, code: Code | number): void {
    this.requests.inc({ service, method, transport, code: String(code) });
  }

  /** Counts every gRPC call with the status it ends with. */
  grpcInterceptor(): grpc.ServerInterceptor {
    return (descriptor, call) => {
      // Paths are /etcdserverpb.<Service>/<Method>.
      const [, full = '', method = ''] = descriptor.path.split('/');
      const service = full.slice(full.lastIndexOf('.') + 1);
      return new grpc.ServerInterceptingCall(call, {
        sendStatus: (status, next) => {
          this.observe('grpc', service, method, status.code);
          next(status);
        },
      });
    };
  }

  serve(_req: IncomingMessage, res: ServerResponse): void {
    this.registry.metrics().then(
      (text) => {
        res.writeHead(200, { 'Content-Type': this.registry.contentType });
        res.end(text);
      },
      (e: unknown) => {
        res.writeHead(500, { 'Content-Type': 'text/plain; charset=utf-8' });
        res.end(`${(e as Error).message}\n`);
      },
    );
  }
}
