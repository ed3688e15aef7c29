/** Every service's methods, built once per context and shared by the gRPC server and the gateway. */
import type { ServiceMethods } from './calls';
import type { RpcContext } from './context';
import { kvCalls } from './kv';
import { keepAliveStream, leaseCalls } from './lease';
import { authCalls } from './auth';
import { electionCalls } from './election';
import { observeStream } from './election-observe';
import { lockCalls } from './lock';
import { clusterCalls, maintenanceCalls } from './maintenance';
import type { ServiceName } from './proto';
import { watchStream } from './watch';

export function serviceMethods(ctx: RpcContext): Record<ServiceName, ServiceMethods> {
  return {
    KV: { unary: kvCalls(ctx), streams: {} },
    Watch: { unary: {}, streams: { Watch: watchStream(ctx) } },
    Lease: { unary: leaseCalls(ctx), streams: { LeaseKeepAlive: keepAliveStream(ctx) } },
    Cluster: { unary: clusterCalls(ctx), streams: {} },
    Maintenance: { unary: maintenanceCalls(ctx), streams: {} },
    Auth: { unary: authCalls(ctx), streams: {} },
    Lock: { unary: lockCalls(ctx), streams: {} },
    Election: { unary: electionCalls(ctx), streams: { Observe: observeStream(ctx) } },
  };
}
