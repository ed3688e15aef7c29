/** KV messages (Range, Put, DeleteRange, Compact) to mvcc requests, and mvcc results back. */
import type {
  CompactionRequest,
  CompactionResponse,
  DeleteRangeRequest,
  DeleteRangeResponse,
  KeyValue,
  PutRequest,
  PutResponse,
  RangeRequest,
  RangeResponse,
} from '../../mvcc/types';
import type * as pb from '../messages';
import { big, headerOf, int, type HeaderIdentity } from './header';

export function decodeRange(m: pb.RangeRequest): RangeRequest {
  return {
    key: m.key,
    range_end: m.range_end,
    limit: int(m.limit),
    revision: int(m.revision),
    sort_order: m.sort_order,
    sort_target: m.sort_target,
    serializable: m.serializable,
    keys_only: m.keys_only,
    count_only: m.count_only,
    min_mod_revision: int(m.min_mod_revision),
    max_mod_revision: int(m.max_mod_revision),
    min_create_revision: int(m.min_create_revision),
    max_create_revision: int(m.max_create_revision),
  };
}

export function decodePut(m: pb.PutRequest): PutRequest {
  return {
    key: m.key,
    value: m.value,
    lease: big(m.lease),
    prev_kv: m.prev_kv,
    ignore_value: m.ignore_value,
    ignore_lease: m.ignore_lease,
  };
}

export function decodeDeleteRange(m: pb.DeleteRangeRequest): DeleteRangeRequest {
  return { key: m.key, range_end: m.range_end, prev_kv: m.prev_kv };
}

export function decodeCompact(m: pb.CompactionRequest): CompactionRequest {
  return { revision: int(m.revision), physical: m.physical };
}

export function encodeKv(kv: KeyValue): pb.KeyValue {
  return {
    key: kv.key,
    create_revision: kv.create_revision,
    mod_revision: kv.mod_revision,
    version: kv.version,
    value: kv.value,
    lease: kv.lease === 0n ? 0 : kv.lease.toString(),
  };
}

/** `top` is the identity for a top-level response's header; null inside a txn. */
export function encodeRange(r: RangeResponse, top: HeaderIdentity | null): pb.RangeResponse {
  return { header: headerOf(top, r.header.revision), kvs: r.kvs.map(encodeKv), more: r.more, count: r.count };
}

export function encodePut(r: PutResponse, top: HeaderIdentity | null): pb.PutResponse {
  return { header: headerOf(top, r.header.revision), prev_kv: r.prev_kv ? encodeKv(r.prev_kv) : undefined };
}

export function encodeDeleteRange(r: DeleteRangeResponse, top: HeaderIdentity | null): pb.DeleteRangeResponse {
  return { header: headerOf(top, r.header.revision), deleted: r.deleted, prev_kvs: r.prev_kvs.map(encodeKv) };
}

export function encodeCompact(r: CompactionResponse, id: HeaderIdentity): pb.CompactionResponse {
  return { header: headerOf(id, r.header.revision) };
}
