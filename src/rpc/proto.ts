/** etcd's protos from proto/, loaded with proto-loader once per process: the gRPC services and the gateway share them. */
import * as path from 'node:path';
import type * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';

const PROTO_DIR = path.resolve(__dirname, '..', '..', 'proto');

export const SERVICE_NAMES = ['KV', 'Watch', 'Lease', 'Cluster', 'Maintenance', 'Auth'] as const;
export type ServiceName = (typeof SERVICE_NAMES)[number];

let loaded: protoLoader.PackageDefinition | undefined;

/** The options the generated message types (proto-types/) describe; `npm run gen:proto-types` uses the same. */
export function loadPackage(): protoLoader.PackageDefinition {
  return (loaded ??= protoLoader.loadSync(['rpc.proto'], {
    includeDirs: [PROTO_DIR],
    keepCase: true,
    longs: String,
    defaults: true,
    oneofs: true,
  }));
}

/** One service's methods as proto-loader defines them (protobufjs serializers). */
export function serviceDefinition(name: ServiceName): grpc.ServiceDefinition {
  return loadPackage()[`etcdserverpb.${name}`] as grpc.ServiceDefinition;
}
