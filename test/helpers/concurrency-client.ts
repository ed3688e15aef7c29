/** gRPC clients of etcd's v3lock and v3election services (their protos beside rpc.proto). */
import * as path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import type { Msg } from './client';

const PROTO_DIR = path.resolve(__dirname, '../../proto');
const pkgDef = protoLoader.loadSync(['v3lock.proto', 'v3election.proto'], {
  includeDirs: [PROTO_DIR],
  keepCase: true,
  longs: String,
  enums: String,
  defaults: true,
  oneofs: true,
});
const loaded = grpc.loadPackageDefinition(pkgDef) as unknown as Record<string, Record<string, grpc.ServiceClientConstructor>>;

type Callback = (err: grpc.ServiceError | null, res: Msg) => void;
type UnaryFn = (req: Msg, md: grpc.Metadata, opts: grpc.CallOptions, cb: Callback) => grpc.ClientUnaryCall;

/** A unary call; `cancel` ends it from the client side (as a client giving up a wait does). */
export interface PendingCall {
  done: Promise<Msg>;
  cancel(): void;
}

export interface ConcurrencyClient {
  lock(method: 'Lock' | 'Unlock', req: Msg, metadata?: grpc.Metadata): PendingCall;
  election(method: 'Campaign' | 'Proclaim' | 'Leader' | 'Resign', req: Msg, metadata?: grpc.Metadata): PendingCall;
  observe(req: Msg, metadata?: grpc.Metadata): grpc.ClientReadableStream<Msg>;
  close(): void;
}

export function createConcurrencyClient(address: string): ConcurrencyClient {
  const creds = grpc.credentials.createInsecure();
  const lock = new loaded.v3lockpb.Lock(address, creds);
  const election = new loaded.v3electionpb.Election(address, creds);
  const unary = (client: grpc.Client, method: string, req: Msg, md = new grpc.Metadata()): PendingCall => {
    let call: grpc.ClientUnaryCall | undefined;
    const done = new Promise<Msg>((resolve, reject) => {
      const fn = (client as unknown as Record<string, UnaryFn>)[method].bind(client);
      call = fn(req, md, { deadline: Date.now() + 30_000 }, (err, res) => (err ? reject(err) : resolve(res)));
    });
    return { done, cancel: () => call?.cancel() };
  };
  return {
    lock: (m, req, md) => unary(lock, m, req, md),
    election: (m, req, md) => unary(election, m, req, md),
    observe: (req, md = new grpc.Metadata()) =>
      (election as unknown as Record<string, (r: Msg, md: grpc.Metadata) => grpc.ClientReadableStream<Msg>>).Observe(req, md),
    close: () => {
      lock.close();
      election.close();
    },
  };
}
