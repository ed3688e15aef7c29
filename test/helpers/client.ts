import * as path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';

// Test-side view of etcd messages: decoded with int64 as strings, enums as names, bytes as Buffers.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Msg = Record<string, any>;
export type Unary = (req?: Msg, metadata?: grpc.Metadata) => Promise<Msg>;
export type Service = Record<string, Unary>;

const PROTO_DIR = path.resolve(__dirname, '../../proto');
const pkgDef = protoLoader.loadSync(['rpc.proto'], {
  includeDirs: [PROTO_DIR],
  keepCase: true,
  longs: String,
  enums: String,
  defaults: true,
  oneofs: true,
});
const pb = grpc.loadPackageDefinition(pkgDef).etcdserverpb as Record<string, grpc.ServiceClientConstructor>;

/** How grpc-js exposes a unary method on a generated client. */
type UnaryMethod = (req: Msg, md: grpc.Metadata, opts: grpc.CallOptions, cb: (err: grpc.ServiceError | null, res: Msg) => void) => void;
type Bidi = (md: grpc.Metadata) => grpc.ClientDuplexStream<Msg, Msg>;

export interface EtcdClient {
  kv: Service;
  lease: Service;
  maintenance: Service;
  cluster: Service;
  auth: Service;
  /** Opens a bidirectional Watch stream. */
  watch(metadata?: grpc.Metadata): grpc.ClientDuplexStream<Msg, Msg>;
  /** Opens a bidirectional LeaseKeepAlive stream. */
  keepAlive(): grpc.ClientDuplexStream<Msg, Msg>;
  close(): void;
  raw: Record<string, grpc.Client>;
}

function promisify(client: grpc.Client, methods: string[]): Service {
  const out: Service = {};
  for (const m of methods) {
    const fn = (client as unknown as Record<string, UnaryMethod>)[m].bind(client);
    out[m] = (req: Msg = {}, metadata = new grpc.Metadata()) =>
      new Promise((resolve, reject) => {
        fn(req, metadata, { deadline: Date.now() + 20_000 }, (err, res) => (err ? reject(err) : resolve(res)));
      });
  }
  return out;
}

const UNARY: Record<string, string[]> = {
  KV: ['Range', 'Put', 'DeleteRange', 'Txn', 'Compact'],
  Lease: ['LeaseGrant', 'LeaseRevoke', 'LeaseTimeToLive', 'LeaseLeases'],
  Maintenance: ['Alarm', 'Status', 'Defragment', 'Hash', 'HashKV', 'MoveLeader'],
  Cluster: ['MemberAdd', 'MemberRemove', 'MemberUpdate', 'MemberList', 'MemberPromote'],
  Auth: [
    'AuthEnable',
    'AuthDisable',
    'AuthStatus',
    'Authenticate',
    'UserAdd',
    'UserGet',
    'UserList',
    'UserDelete',
    'UserChangePassword',
    'UserGrantRole',
    'UserRevokeRole',
    'RoleAdd',
    'RoleGet',
    'RoleList',
    'RoleDelete',
    'RoleGrantPermission',
    'RoleRevokePermission',
  ],
};

/** A gRPC client for an etcd v3 endpoint such as "127.0.0.1:2379" (TLS with `creds`). */
export function createClient(address: string, creds = grpc.credentials.createInsecure()): EtcdClient {
  const opts = { 'grpc.max_receive_message_length': -1, 'grpc.max_send_message_length': 8 * 1024 * 1024 };
  const raw: Record<string, grpc.Client> = {};
  for (const s of Object.keys(UNARY)) raw[s] = new pb[s](address, creds, opts);
  raw.Watch = new pb.Watch(address, creds, opts);
  return {
    kv: promisify(raw.KV, UNARY.KV),
    lease: promisify(raw.Lease, UNARY.Lease),
    maintenance: promisify(raw.Maintenance, UNARY.Maintenance),
    cluster: promisify(raw.Cluster, UNARY.Cluster),
    auth: promisify(raw.Auth, UNARY.Auth),
    watch: (metadata = new grpc.Metadata()) => (raw.Watch as unknown as Record<string, Bidi>).Watch(metadata),
    keepAlive: () => (raw.Lease as unknown as Record<string, Bidi>).LeaseKeepAlive(new grpc.Metadata()),
    close: () => {
      for (const c of Object.values(raw)) c.close();
    },
    raw,
  };
}

/** Bytes helper: tests speak strings, the wire speaks bytes. */
export const b = (s: string): Buffer => Buffer.from(s, 'utf8');
/** Decodes a Buffer field back to a string. */
export const s = (buf: Buffer | Uint8Array | undefined): string => Buffer.from(buf ?? []).toString('utf8');
/** The key just after every key with this prefix (etcd's prefix range_end). */
export function prefixEnd(prefix: string | Buffer): Buffer {
  const buf = Buffer.from(prefix);
  for (let i = buf.length - 1; i >= 0; i--) {
    if (buf[i] < 0xff) {
      const end = Buffer.from(buf.subarray(0, i + 1));
      end[i]++;
      return end;
    }
  }
  return Buffer.from([0]);
}

/** Collects watch responses from a stream into an array, with a way to wait for more. */
export class WatchReader {
  readonly responses: Msg[] = [];
  private waiters: Array<() => void> = [];
  ended = false;
  error: Error | undefined;
  constructor(readonly stream: grpc.ClientDuplexStream<Msg, Msg>) {
    stream.on('data', (m: Msg) => {
      this.responses.push(m);
      this.wake();
    });
    stream.on('error', (e: Error) => {
      this.error = e;
      this.ended = true;
      this.wake();
    });
    stream.on('end', () => {
      this.ended = true;
      this.wake();
    });
  }
  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }
  send(req: Msg): void {
    this.stream.write(req);
  }
  /** Waits until `pred` holds over the responses so far. */
  async until(pred: (rs: Msg[]) => boolean, timeoutMs = 10_000): Promise<Msg[]> {
    const deadline = Date.now() + timeoutMs;
    while (!pred(this.responses)) {
      if (this.ended) throw new Error(`watch stream ended: ${this.error?.message ?? 'eof'}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out; responses so far: ${JSON.stringify(this.responses)}`);
      await new Promise<void>((r) => {
        const t = setTimeout(r, left);
        this.waiters.push(() => {
          clearTimeout(t);
          r();
        });
      });
    }
    return this.responses;
  }
  /** Waits for at least n responses and returns the first n. */
  async take(n: number, timeoutMs = 10_000): Promise<Msg[]> {
    await this.until((rs) => rs.length >= n, timeoutMs);
    return this.responses.slice(0, n);
  }
  /** All events received so far, flattened, for the given watch id (or all ids). */
  events(watchId?: string): Msg[] {
    return this.responses.filter((r) => watchId === undefined || r.watch_id === watchId).flatMap((r) => r.events as Msg[]);
  }
  close(): void {
    this.stream.cancel();
  }
}
