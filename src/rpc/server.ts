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

export function createGrpcServer(ctx: RpcContext): grpc.Server {
  const server = new grpc.Server({
    'grpc.max_receive_message_length': ctx.limits.maxRequestBytes + RECEIVE_SLACK,
    'grpc.max_send_message_length': -1,
    // kube-apiserver pings every 30 s; etcd permits pings as often as every 5 s.
    'grpc.keepalive_permit_without_calls': 1,
    'grpc.http2.min_ping_interval_without_data_ms': 5000,
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
