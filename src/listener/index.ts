/** Everything clients reach on strata's one port, wired to the rpc layer. */
import type { Logger } from 'pino';
import type { ListenAddress } from '../config';
import type { RpcContext } from '../rpc/context';
import { createGateway } from '../rpc/gateway/gateway';
import { createGrpcServer } from '../rpc/server';
import type { Metrics } from './metrics';
import { serve, type Serving } from './serve';

export type { Serving } from './serve';

/** A health check slower than this reports the database unreachable (Docker's check allows 5 s). */
const HEALTH_TIMEOUT_MS = 2000;

export interface ServingOptions {
  /** A cheap database read for /health. */
  probe(): Promise<unknown>;
  /** The alarm types raised now (NOSPACE, CORRUPT). */
  alarms(): string[];
  /** The app's metrics (created before the log, which reports SQL to it). */
  metrics: Metrics;
}

export async function startServing(at: ListenAddress, ctx: RpcContext, o: ServingOptions, log: Logger): Promise<Serving> {
  const metrics = o.metrics;
  const grpcServer = createGrpcServer(ctx, [metrics.grpcInterceptor()]);
  const gateway = createGateway(ctx, (service, method, code) => metrics.observeGateway(service, method, code));
  return serve(
    at,
    grpcServer,
    {
      gateway,
      version: ctx.version,
      health: { probe: o.probe, alarms: o.alarms, timeoutMs: HEALTH_TIMEOUT_MS, log: log.child({ component: 'health' }) },
      metrics,
    },
    log,
  );
}
