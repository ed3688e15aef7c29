/** etcd's protos from proto/, loaded with proto-loader once per process: the gRPC services and the gateway share them. */
import * as path from 'node:path';
import type * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import * as protobuf from 'protobufjs';
import { MAX_TXN_DEPTH } from '../limits';

const PROTO_DIR = path.resolve(__dirname, '..', '..', 'proto');

export const SERVICE_NAMES = ['KV', 'Watch', 'Lease', 'Cluster', 'Maintenance', 'Auth', 'Lock', 'Election'] as const;
export type ServiceName = (typeof SERVICE_NAMES)[number];

/** The proto package of each service (etcd keeps v3lock and v3election in packages of their own). */
const PACKAGES: Record<ServiceName, string> = {
  KV: 'etcdserverpb',
  Watch: 'etcdserverpb',
  Lease: 'etcdserverpb',
  Cluster: 'etcdserverpb',
  Maintenance: 'etcdserverpb',
  Auth: 'etcdserverpb',
  Lock: 'v3lockpb',
  Election: 'v3electionpb',
};

/** A service's package: its messages' full names start with it. */
export function packageOf(name: ServiceName): string {
  return PACKAGES[name];
}

let loaded: protoLoader.PackageDefinition | undefined;

/** The options the generated message types (proto-types/) describe; `npm run gen:proto-types` uses the same. */
export function loadPackage(): protoLoader.PackageDefinition {
  allowTxnNesting();
  return (loaded ??= protoLoader.loadSync(['rpc.proto', 'v3lock.proto', 'v3election.proto'], {
    includeDirs: [PROTO_DIR],
    keepCase: true,
    longs: String,
    defaults: true,
    oneofs: true,
  }));
}

/** One service's methods as proto-loader defines them (protobufjs serializers). */
export function serviceDefinition(name: ServiceName): grpc.ServiceDefinition {
  return loadPackage()[`${PACKAGES[name]}.${name}`] as grpc.ServiceDefinition;
}

/**
 * protobufjs stops at 100 levels of nesting when decoding, converting and encoding, and a txn takes
 * two per level (TxnRequest → RequestOp → TxnRequest): left alone, a txn nested 50 deep committed and
 * then failed to encode its response. Raised to cover every nesting validation lets through (plus
 * the op, its header and a KeyValue below the deepest txn); a deeper message fails to decode, which
 * the Txn method answers as etcd does (grpc-service.ts).
 */
export const PROTO_RECURSION_LIMIT = 2 * MAX_TXN_DEPTH + 8;

function allowTxnNesting(): void {
  protobuf.util.recursionLimit = Math.max(protobuf.util.recursionLimit, PROTO_RECURSION_LIMIT);
  protobuf.Reader.recursionLimit = Math.max(protobuf.Reader.recursionLimit, PROTO_RECURSION_LIMIT);
}
