/**
 * etcd's gRPC service definitions from proto/, loaded with proto-loader. Each request object gets
 * its encoded size attached (REQUEST_SIZE), which etcd's request-size limit is checked against.
 */
import * as path from 'node:path';
import type * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { FAST_ENCODERS } from './fast-encode';

export const REQUEST_SIZE = Symbol('requestSize');
/** A decoded message: proto field names, int64 as strings, enums as numbers, bytes as Buffers. */
export type Wire = Record<string, unknown>;

const PROTO_DIR = path.resolve(__dirname, '..', '..', 'proto');

export type ServiceName = 'KV' | 'Watch' | 'Lease' | 'Cluster' | 'Maintenance' | 'Auth';

let loaded: protoLoader.PackageDefinition | undefined;

/** etcd's protos as proto-loader reads them (once per process): the gRPC services and the gateway share them. */
export function loadPackage(): protoLoader.PackageDefinition {
  return (loaded ??= protoLoader.loadSync(['rpc.proto'], {
    includeDirs: [PROTO_DIR],
    keepCase: true,
    longs: String,
    defaults: true,
    oneofs: true,
  }));
}

export function loadServices(): Record<ServiceName, grpc.ServiceDefinition> {
  const pkg = loadPackage();
  const out = {} as Record<ServiceName, grpc.ServiceDefinition>;
  for (const name of ['KV', 'Watch', 'Lease', 'Cluster', 'Maintenance', 'Auth'] as const) {
    const def = pkg[`etcdserverpb.${name}`] as grpc.ServiceDefinition;
    const wrapped: Record<string, grpc.MethodDefinition<unknown, unknown>> = {};
    for (const [method, m] of Object.entries(def)) {
      const decode = m.requestDeserialize;
      const fast = FAST_ENCODERS[name]?.[method];
      wrapped[method] = {
        ...m,
        ...(fast ? { responseSerialize: (r: unknown) => fast(r as Wire) } : {}),
        requestDeserialize: (buf: Buffer) => {
          const obj = decode(buf) as Wire;
          obj[REQUEST_SIZE as unknown as string] = buf.length;
          return obj;
        },
      };
    }
    out[name] = wrapped as grpc.ServiceDefinition;
  }
  return out;
}

export function requestSize(req: Wire): number {
  return (req[REQUEST_SIZE as unknown as string] as number | undefined) ?? 0;
}
