/** Every service's methods, built once per context and shared by the gRPC server and the gateway. */
import type { ServiceMethods } from './calls';
import type { RpcContext } from './context';
import { kvCalls } from './kv';
import { keepAliveStream, leaseCalls } from './lease';
import { authCalls } from './auth';
import { clusterCalls, maintenanceCalls } from './maintenance';
import type { ServiceName } from './proto';
import { slowLogged } from './slow-requests';
import { watchStream } from './watch';

export function serviceMethods(ctx: RpcContext): Record<ServiceName, ServiceMethods> {
  const slow = (service: string, table: ServiceMethods['unary']) => slowLogged(service, table, ctx.slowRequestMs ?? 0, ctx.log);
  return {
    KV: { unary: slow('KV', kvCalls(ctx)), streams: {} },
    Watch: { unary: {}, streams: { Watch: watchStream(ctx) } },
    Lease: { unary: slow('Lease', leaseCalls(ctx)), streams: { LeaseKeepAlive: keepAliveStream(ctx) } },
    Cluster: { unary: slow('Cluster', clusterCalls(ctx)), streams: {} },
    Maintenance: { unary: slow('Maintenance', maintenanceCalls(ctx)), streams: {} },
    Auth: { unary: slow('Auth', authCalls(ctx)), streams: {} },
  };
}
