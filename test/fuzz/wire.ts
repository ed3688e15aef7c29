/**
 * The fuzzer's view of the wire: every gRPC method of etcd's protos with a valid request to start
 * from, protobuf and JSON mutations as fast-check arbitraries, and the checks every answer must
 * pass (a success, or an etcd error that is well formed — never an internal JavaScript error).
 */
import * as path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import fc from 'fast-check';

const PROTO_DIR = path.resolve(__dirname, '../../proto');
const pkg = protoLoader.loadSync(['rpc.proto'], { includeDirs: [PROTO_DIR], keepCase: true, longs: String, defaults: true, oneofs: true });

export interface GrpcMethod {
  path: string;
  /** Bidi streams (Watch, LeaseKeepAlive) take many messages; everything else one. */
  stream: boolean;
  /** A valid request for the method, encoded. */
  valid: Buffer;
}

const b = (s: string) => Buffer.from(s);

/** Requests that do something; the other methods start from the empty message. */
const SAMPLES: Record<string, object> = {
  Range: { key: b('fuzz/a'), range_end: b('fuzz/z'), limit: 5 },
  Put: { key: b('fuzz/a'), value: b('v'), prev_kv: true },
  DeleteRange: { key: b('fuzz/a'), range_end: b('fuzz/b') },
  Txn: {
    compare: [{ key: b('fuzz/a'), target: 'VERSION', result: 'GREATER', version: 0 }],
    success: [{ request_put: { key: b('fuzz/t'), value: b('1') } }],
    failure: [{ request_range: { key: b('fuzz/t') } }],
  },
  Compact: { revision: 1 },
  LeaseGrant: { TTL: 30 },
  LeaseRevoke: { ID: 1 },
  LeaseTimeToLive: { ID: 1, keys: true },
  LeaseKeepAlive: { ID: 1 },
  Watch: { create_request: { key: b('fuzz/'), range_end: b('fuzz0'), prev_kv: true } },
  HashKV: { revision: 0 },
  Authenticate: { name: 'fuzz', password: 'pw' },
  UserAdd: { name: 'fuzz-user', password: 'pw' },
  UserGet: { name: 'fuzz-user' },
  RoleAdd: { name: 'fuzz-role' },
  RoleGrantPermission: { name: 'fuzz-role', perm: { permType: 'READ', key: b('fuzz/'), range_end: b('fuzz0') } },
  MemberAdd: { peerURLs: ['http://127.0.0.1:1'] },
};

/** Requests that would change the server for everyone after them (auth on, an alarm raised). */
const LEFT_OUT = new Set(['/etcdserverpb.Auth/AuthEnable', '/etcdserverpb.Maintenance/Alarm', '/etcdserverpb.Maintenance/Snapshot']);

export function grpcMethods(): GrpcMethod[] {
  const out: GrpcMethod[] = [];
  for (const [name, def] of Object.entries(pkg)) {
    if (!name.startsWith('etcdserverpb.') || 'format' in def) continue;
    for (const [method, m] of Object.entries(def as grpc.ServiceDefinition)) {
      if (typeof m !== 'object' || !m || !('path' in m) || LEFT_OUT.has(m.path)) continue;
      out.push({ path: m.path, stream: m.requestStream, valid: m.requestSerialize(SAMPLES[method] ?? {}) });
    }
  }
  return out;
}

/** One change to an encoded message. */
export type Mutation =
  | { kind: 'flip'; at: number; bit: number }
  | { kind: 'insert'; at: number; bytes: Uint8Array }
  | { kind: 'delete'; at: number; n: number }
  | { kind: 'truncate'; at: number }
  | { kind: 'field'; no: number; wire: number; payload: Uint8Array }
  | { kind: 'varint'; no: number; value: bigint };

export const mutationArb: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), bit: fc.integer({ min: 0, max: 7 }) }),
  fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), bytes: fc.uint8Array({ minLength: 1, maxLength: 12 }) }),
  fc.record({ kind: fc.constant('delete' as const), at: fc.nat(), n: fc.integer({ min: 1, max: 6 }) }),
  fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
  fc.record({
    kind: fc.constant('field' as const),
    no: fc.integer({ min: 1, max: 20 }),
    wire: fc.integer({ min: 0, max: 7 }),
    payload: fc.uint8Array({ maxLength: 24 }),
  }),
  fc.record({
    kind: fc.constant('varint' as const),
    no: fc.integer({ min: 1, max: 20 }),
    value: fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }),
  }),
);

function varint(v: bigint): Buffer {
  const out: number[] = [];
  while (v > 127n) {
    out.push(Number(v & 127n) | 128);
    v >>= 7n;
  }
  out.push(Number(v));
  return Buffer.from(out);
}

export function mutate(msg: Buffer, muts: Mutation[]): Buffer {
  let m = Buffer.from(msg);
  for (const x of muts) {
    const at = m.length === 0 ? 0 : x.kind === 'insert' ? x.at % (m.length + 1) : 'at' in x ? x.at % m.length : 0;
    switch (x.kind) {
      case 'flip':
        if (m.length > 0) m[at] ^= 1 << x.bit;
        break;
      case 'insert':
        m = Buffer.concat([m.subarray(0, at), x.bytes, m.subarray(at)]);
        break;
      case 'delete':
        m = Buffer.concat([m.subarray(0, at), m.subarray(at + x.n)]);
        break;
      case 'truncate':
        m = m.subarray(0, at);
        break;
      case 'field': {
        const body = x.wire === 2 ? Buffer.concat([varint(BigInt(x.payload.length)), x.payload]) : Buffer.from(x.payload);
        m = Buffer.concat([m, varint(BigInt((x.no << 3) | x.wire)), body]);
        break;
      }
      case 'varint':
        m = Buffer.concat([m, varint(BigInt(x.no << 3)), varint(x.value)]);
        break;
    }
  }
  return m;
}

/** JavaScript's own words leaking into an answer: a crash turned into a status. */
const INTERNAL_WORDS =
  /call stack|Cannot read prop|is not a function|is not defined|undefined is not|of undefined|of null|Unexpected token/;

/** A gRPC error status as etcd could send it; returns why not, or undefined. */
export function badStatus(code: number, details: string): string | undefined {
  if (!Number.isInteger(code) || code < 1 || code > 16) return `code ${code}`;
  // Nothing strata says to a bad request is "unavailable" or a timeout: those would mean it is stuck.
  if (code === grpc.status.UNAVAILABLE || code === grpc.status.DEADLINE_EXCEEDED) return `code ${code}: ${details}`;
  if (details === '') return `code ${code} without a message`;
  if (INTERNAL_WORDS.test(details)) return `internal error leaked: ${details}`;
  return undefined;
}

/** A gateway route with a valid body. */
export interface JsonRoute {
  path: string;
  body: object;
  stream?: boolean;
}

const b64 = (s: string) => Buffer.from(s).toString('base64');

export const JSON_ROUTES: JsonRoute[] = [
  { path: '/v3/kv/range', body: { key: b64('fuzz/a'), range_end: b64('fuzz/z'), limit: 3, sort_order: 'DESCEND' } },
  { path: '/v3/kv/put', body: { key: b64('fuzz/a'), value: b64('v'), lease: '0', prev_kv: true } },
  { path: '/v3/kv/deleterange', body: { key: b64('fuzz/a'), range_end: b64('fuzz/b') } },
  {
    path: '/v3/kv/txn',
    body: {
      compare: [{ key: b64('fuzz/a'), target: 'MOD', result: 'LESS', mod_revision: '100' }],
      success: [
        { request_put: { key: b64('fuzz/t'), value: b64('1') } },
        { request_txn: { success: [{ request_range: { key: b64('fuzz/t') } }] } },
      ],
    },
  },
  { path: '/v3/kv/compaction', body: { revision: '1' } },
  { path: '/v3/lease/grant', body: { TTL: '30' } },
  { path: '/v3/lease/revoke', body: { ID: '1' } },
  { path: '/v3/lease/timetolive', body: { ID: '1', keys: true } },
  { path: '/v3/lease/leases', body: {} },
  { path: '/v3/maintenance/status', body: {} },
  { path: '/v3/auth/status', body: {} },
  { path: '/v3/cluster/member/list', body: {} },
  { path: '/v3/watch', body: { create_request: { key: b64('fuzz/'), range_end: b64('fuzz0') } }, stream: true },
  { path: '/v3/lease/keepalive', body: { ID: '1' }, stream: true },
];

/** Changes to a JSON body: at the text, or a value replaced by any JSON at all. */
export type JsonMutation =
  | { kind: 'char'; at: number; c: string }
  | { kind: 'delete'; at: number; n: number }
  | { kind: 'truncate'; at: number }
  | { kind: 'dup'; at: number; n: number }
  | { kind: 'value'; at: number; v: string }
  | { kind: 'nest'; depth: number };

export const jsonMutationArb: fc.Arbitrary<JsonMutation> = fc.oneof(
  fc.record({ kind: fc.constant('char' as const), at: fc.nat(), c: fc.constantFrom(...'{}[]":,0-1e.tfn\\u"ab \n\x00é'.split('')) }),
  fc.record({ kind: fc.constant('delete' as const), at: fc.nat(), n: fc.integer({ min: 1, max: 8 }) }),
  fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('dup' as const), at: fc.nat(), n: fc.integer({ min: 1, max: 40 }) }),
  fc.record({ kind: fc.constant('value' as const), at: fc.nat(), v: fc.json({ maxDepth: 3 }) }),
  fc.record({ kind: fc.constant('nest' as const), depth: fc.integer({ min: 1, max: 20_000 }) }),
);

export function mutateJson(text: string, muts: JsonMutation[]): string {
  let t = text;
  for (const x of muts) {
    const at = 'at' in x ? x.at % (t.length + 1) : 0;
    switch (x.kind) {
      case 'char':
        t = t.slice(0, at) + x.c + t.slice(at);
        break;
      case 'delete':
        t = t.slice(0, at) + t.slice(at + x.n);
        break;
      case 'truncate':
        t = t.slice(0, at);
        break;
      case 'dup':
        t = t.slice(0, at + x.n) + t.slice(at);
        break;
      case 'value': {
        // The value after the n-th colon (or the whole body) becomes arbitrary JSON.
        const colons = [...t.matchAll(/:/g)].map((m) => m.index ?? 0);
        if (colons.length === 0) {
          t = x.v;
          break;
        }
        const c = colons[at % colons.length] + 1;
        const end = t.slice(c).search(/[,}\]]/);
        t = t.slice(0, c) + x.v + (end < 0 ? '' : t.slice(c + end));
        break;
      }
      case 'nest':
        t = `{"key":${'['.repeat(x.depth)}${']'.repeat(x.depth)}}`;
        break;
    }
  }
  return t;
}

/** Why a gateway answer is not one etcd's gateway could give, or undefined. */
export function badGatewayReply(status: number, text: string, stream: boolean): string | undefined {
  if (status === 404 || status === 405) return undefined;
  if (text.length > 0 && INTERNAL_WORDS.test(text)) return `internal error leaked: ${text.slice(0, 200)}`;
  const lines = stream ? text.split('\n').filter((l) => l !== '') : [text];
  for (const line of lines) {
    let v: unknown;
    try {
      v = JSON.parse(line);
    } catch {
      return `not JSON (${status}): ${line.slice(0, 200)}`;
    }
    if (typeof v !== 'object' || v === null) return `not an object: ${line.slice(0, 200)}`;
    const o = v as Record<string, unknown>;
    if (status === 200 && !stream) continue;
    const err = (stream && status === 200 ? o.error : o) as Record<string, unknown> | undefined;
    if (stream && status === 200 && o.result !== undefined) continue;
    if (!err || typeof err.message !== 'string' || typeof (err.code ?? err.grpc_code) !== 'number') {
      return `no etcd error (${status}): ${line.slice(0, 200)}`;
    }
  }
  if (status >= 500 && status !== 500 && status !== 501 && status !== 503) return `status ${status}`;
  return undefined;
}
