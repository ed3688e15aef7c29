/** The gRPC server with every etcd service registered. */
import * as grpc from '@grpc/grpc-js';
import type { RpcContext } from './context';
import { kvService } from './kv';
import { leaseService } from './lease';
import { authService, clusterService, maintenanceService } from './maintenance';
import { loadServices } from './proto';
import { watchService } from './watch';

/** etcd allows receiving max-request-bytes plus this much, then checks the request itself. */
const RECEIVE_SLACK = 512 * 1024;

export function createGrpcServer(ctx: RpcContext, interceptors: grpc.ServerInterceptor[] = []): grpc.Server {
  const server = new grpc.Server({
    interceptors,
    'grpc.max_receive_message_length': ctx.limits.maxRequestBytes + RECEIVE_SLACK,
    'grpc.max_send_message_length': -1,
    // No ping policy to set: grpc-js servers answer every client keepalive ping, so
    // kube-apiserver's 30 s pings never earn a GOAWAY (etcd allows one every 5 s).
  });
  const defs = loadServices();
  server.addService(defs.KV, kvService(ctx));
  server.addService(defs.Watch, watchService(ctx));
  server.addService(defs.Lease, leaseService(ctx));
  server.addService(defs.Maintenance, maintenanceService(ctx));
  server.addService(defs.Cluster, clusterService(ctx));
  server.addService(defs.Auth, authService(ctx));
  return server;
}
