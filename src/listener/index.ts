/** Everything clients reach on strata's ports, wired to the rpc layer. */
import * as http from 'node:http';
import type { Logger } from 'pino';
import type { ListenAddress, ListenUrl, ServerTls } from '../config';
import type { RpcContext } from '../rpc/context';
import { createGateway } from '../rpc/gateway/gateway';
import { createGrpcServer } from '../rpc/server';
import type { HealthOptions } from './health';
import { metricsHandler } from './http';
import type { ProbeOptions } from './probes';
import { Listener } from './listener';
import type { Metrics } from './metrics';
import { serve, type Serving } from './serve';
import { ServerTlsEngine } from './tls';

export type { BoundUrl, Serving } from './serve';

/** A health check slower than this reports the database unreachable (Docker's check allows 5 s). */
const HEALTH_TIMEOUT_MS = 2000;

interface ServingOptions {
  /** A cheap database read for /health. */
  probe(): Promise<unknown>;
  listen: ListenUrl[];
  metricsListen: ListenAddress[];
  tls?: ServerTls;
  /** The alarm types raised now (NOSPACE, CORRUPT). */
  alarms(): string[];
  /** The app's metrics (created before the log, which reports SQL to it). */
  metrics: Metrics;
}

export async function startServing(ctx: RpcContext, o: ServingOptions, log: Logger): Promise<Serving> {
  const metrics = o.metrics;
  const health: HealthOptions = { probe: o.probe, alarms: o.alarms, timeoutMs: HEALTH_TIMEOUT_MS, log: log.child({ component: 'health' }) };
  const probes: ProbeOptions = {
    probe: o.probe,
    corrupt: () => o.alarms().includes('CORRUPT'),
    timeoutMs: HEALTH_TIMEOUT_MS,
    log: health.log,
  };
  const tlsLog = log.child({ component: 'tls' });
  const tls = o.tls ? new ServerTlsEngine(o.tls, tlsLog) : undefined;
  const grpcServer = createGrpcServer(ctx, [metrics.grpcInterceptor()]);
  const gateway = createGateway(ctx, (service, method, code) => metrics.observeGateway(service, method, code));
  const main = await serve(o.listen, grpcServer, { gateway, version: ctx.version, health, probes, metrics }, tls, log);
  const extra: Listener[] = [];
  const metricsHttp = http.createServer(metricsHandler({ health, probes, metrics }));
  // Prometheus keeps its scrape connection open between scrapes, as etcd lets it.
  metricsHttp.keepAliveTimeout = 0;
  try {
    for (const at of o.metricsListen) {
      const where = at.kind === 'unix' ? `unix://${at.path}` : `${at.host}:${at.port}`;
      const l = await Listener.listen(
        at,
        { h2: (s) => s.destroy(), http1: (s) => (metricsHttp.emit('connection', s), s.resume()) },
        log.child({ component: 'metrics-listener' }),
      ).catch((e: unknown) => {
        throw new Error(`cannot listen on --listen-metrics-urls ${where}: ${(e as Error).message}`, { cause: e });
      });
      extra.push(l);
    }
  } catch (e) {
    main.force();
    await Promise.all([main.drain(), ...extra.map((l) => l.close())]);
    throw e;
  }
  tls?.watch();
  return {
    ...main,
    metricsAddresses: extra.map((l) => l.address),
    async drain() {
      tls?.close();
      await Promise.all([main.drain(), ...extra.map((l) => l.close())]);
      metricsHttp.closeAllConnections();
    },
    force() {
      main.force();
      metricsHttp.closeAllConnections();
    },
  };
}
