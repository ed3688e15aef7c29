/** Wire messages (as proto-loader decodes them) to mvcc types and back. */
import type {
  Compare,
  CompareOperand,
  DeleteRangeRequest,
  DeleteRangeResponse,
  Event,
  Header,
  KeyValue,
  PutRequest,
  PutResponse,
  RangeRequest,
  RangeResponse,
  RequestOp,
  ResponseOp,
  TxnRequest,
  TxnResponse,
  WatchCreate,
  WatchResponse,
} from '../mvcc/types';
import type { Wire } from './proto';

const EMPTY = Buffer.alloc(0);
const num = (v: unknown): number => (v === undefined || v === null || v === '' ? 0 : Number(v));
const big = (v: unknown): bigint => (v === undefined || v === null || v === '' ? 0n : BigInt(v as string));
const bytes = (v: unknown): Buffer => (v ? (v as Buffer) : EMPTY);

export function decodeRange(w: Wire): RangeRequest {
  return {
    key: bytes(w.key),
    range_end: bytes(w.range_end),
    limit: num(w.limit),
    revision: num(w.revision),
    sort_order: num(w.sort_order),
    sort_target: num(w.sort_target),
    serializable: !!w.serializable,
    keys_only: !!w.keys_only,
    count_only: !!w.count_only,
    min_mod_revision: num(w.min_mod_revision),
    max_mod_revision: num(w.max_mod_revision),
    min_create_revision: num(w.min_create_revision),
    max_create_revision: num(w.max_create_revision),
  };
}

export function decodePut(w: Wire): PutRequest {
  return {
    key: bytes(w.key),
    value: bytes(w.value),
    lease: big(w.lease),
    prev_kv: !!w.prev_kv,
    ignore_value: !!w.ignore_value,
    ignore_lease: !!w.ignore_lease,
  };
}

export function decodeDeleteRange(w: Wire): DeleteRangeRequest {
  return { key: bytes(w.key), range_end: bytes(w.range_end), prev_kv: !!w.prev_kv };
}

function decodeOperand(w: Wire): CompareOperand {
  switch (w.target_union) {
    case 'version':
      return { kind: 'version', value: num(w.version) };
    case 'create_revision':
      return { kind: 'create_revision', value: num(w.create_revision) };
    case 'mod_revision':
      return { kind: 'mod_revision', value: num(w.mod_revision) };
    case 'value':
      return { kind: 'value', value: bytes(w.value) };
    case 'lease':
      return { kind: 'lease', value: big(w.lease) };
    default:
      return { kind: 'none' };
  }
}

function decodeCompare(w: Wire): Compare {
  return { result: num(w.result), target: num(w.target), key: bytes(w.key), range_end: bytes(w.range_end), operand: decodeOperand(w) };
}

function decodeOp(w: Wire): RequestOp {
  switch (w.request) {
    case 'request_range':
      return { kind: 'range', range: decodeRange(w.request_range as Wire) };
    case 'request_put':
      return { kind: 'put', put: decodePut(w.request_put as Wire) };
    case 'request_delete_range':
      return { kind: 'delete_range', delete_range: decodeDeleteRange(w.request_delete_range as Wire) };
    case 'request_txn':
      return { kind: 'txn', txn: decodeTxn(w.request_txn as Wire) };
    default:
      return { kind: 'empty' };
  }
}

export function decodeTxn(w: Wire): TxnRequest {
  return {
    compare: ((w.compare ?? []) as Wire[]).map(decodeCompare),
    success: ((w.success ?? []) as Wire[]).map(decodeOp),
    failure: ((w.failure ?? []) as Wire[]).map(decodeOp),
  };
}

export function decodeWatchCreate(w: Wire): WatchCreate {
  return {
    key: bytes(w.key),
    range_end: bytes(w.range_end),
    start_revision: num(w.start_revision),
    progress_notify: !!w.progress_notify,
    filters: ((w.filters ?? []) as unknown[]).map(num),
    prev_kv: !!w.prev_kv,
    watch_id: num(w.watch_id),
    fragment: !!w.fragment,
  };
}

/** The identity fields every top-level header carries. */
export interface HeaderIdentity {
  cluster_id: string;
  member_id: string;
  raft_term: number;
}

export function header(id: HeaderIdentity, h: Header): Wire {
  return { cluster_id: id.cluster_id, member_id: id.member_id, revision: h.revision, raft_term: id.raft_term };
}

export function encodeKv(kv: KeyValue): Wire {
  return {
    key: kv.key,
    create_revision: kv.create_revision,
    mod_revision: kv.mod_revision,
    version: kv.version,
    value: kv.value,
    lease: kv.lease === 0n ? 0 : kv.lease.toString(),
  };
}

/** `top` is the full header for a top-level response; inner txn responses carry only the revision. */
export function encodeRange(r: RangeResponse, top: HeaderIdentity | null): Wire {
  return { header: top ? header(top, r.header) : r.header, kvs: r.kvs.map(encodeKv), more: r.more, count: r.count };
}

export function encodePut(r: PutResponse, top: HeaderIdentity | null): Wire {
  return { header: top ? header(top, r.header) : r.header, prev_kv: r.prev_kv ? encodeKv(r.prev_kv) : undefined };
}

export function encodeDeleteRange(r: DeleteRangeResponse, top: HeaderIdentity | null): Wire {
  return { header: top ? header(top, r.header) : r.header, deleted: r.deleted, prev_kvs: r.prev_kvs.map(encodeKv) };
}

function encodeOp(op: ResponseOp): Wire {
  switch (op.kind) {
    case 'range':
      return { response_range: encodeRange(op.range, null) };
    case 'put':
      return { response_put: encodePut(op.put, null) };
    case 'delete_range':
      return { response_delete_range: encodeDeleteRange(op.delete_range, null) };
    case 'txn':
      return { response_txn: encodeTxn(op.txn, null) };
  }
}

export function encodeTxn(r: TxnResponse, top: HeaderIdentity | null): Wire {
  return { header: top ? header(top, r.header) : r.header, succeeded: r.succeeded, responses: r.responses.map(encodeOp) };
}

/** One wire object per event, so an event fanned out to many watchers is encoded once. */
const eventWire = new WeakMap<Event, Wire>();
function encodeEvent(e: Event): Wire {
  let w = eventWire.get(e);
  if (!w) {
    w = { type: e.type, kv: encodeKv(e.kv), prev_kv: e.prev_kv ? encodeKv(e.prev_kv) : undefined };
    eventWire.set(e, w);
  }
  return w;
}

export function encodeWatch(r: WatchResponse, id: HeaderIdentity): Wire {
  return {
    header: header(id, { revision: r.revision }),
    watch_id: r.watch_id,
    created: r.created ?? false,
    canceled: r.canceled ?? false,
    compact_revision: r.compact_revision ?? 0,
    cancel_reason: r.cancel_reason ?? '',
    events: r.events.map(encodeEvent),
  };
}
