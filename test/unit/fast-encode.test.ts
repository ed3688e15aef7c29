/**
 * The hand-written encoders must produce what protobufjs produces, as read back by protobufjs:
 * every field, zero values, negative int64s, 64-bit ids beyond 2^53, empty and large bytes.
 */
import type * as grpc from '@grpc/grpc-js';
import { describe, expect, it } from 'vitest';
import { encodePutResponse, encodeRangeResponse, encodeWatchResponse } from '../../src/rpc/fast-encode';
import { loadPackage, type Wire } from '../../src/rpc/proto';

const pkg = loadPackage();
const method = (service: string, name: string) => (pkg[`etcdserverpb.${service}`] as grpc.ServiceDefinition)[name];

function sameAsProtobufjs(service: string, name: string, fast: (w: Wire) => Buffer, msg: Wire): void {
  const m = method(service, name);
  const reference = m.responseDeserialize(m.responseSerialize(msg));
  expect(m.responseDeserialize(fast(msg))).toEqual(reference);
}

const header = (revision: number | string) => ({ cluster_id: '18446744073709551615', member_id: '9223372036854775807', revision, raft_term: 2 });
const kv = (i: number, lease: number | string = 0): Wire => ({
  key: Buffer.from(`/registry/pods/ns/p${i}`),
  create_revision: i + 1,
  mod_revision: i * 1000 + 7,
  version: i,
  value: Buffer.alloc(i * 37, i),
  lease,
});

describe('fast encoders', () => {
  it('RangeResponse: headers, kvs of every shape, more, count', () => {
    sameAsProtobufjs('KV', 'Range', encodeRangeResponse, { header: header(123456789), kvs: [], more: false, count: 0 });
    sameAsProtobufjs('KV', 'Range', encodeRangeResponse, {
      header: header(2 ** 40),
      kvs: [kv(0), kv(1, '7587869000143409018'), kv(2, 1), kv(300)],
      more: true,
      count: 10_000,
    });
    // Inner txn responses carry a header with only the revision.
    sameAsProtobufjs('KV', 'Range', encodeRangeResponse, { header: { revision: 5 }, kvs: [kv(3)], more: false, count: '1' });
    const big = Array.from({ length: 300 }, (_, i) => ({ ...kv(i % 50), value: Buffer.alloc(1024, i) }));
    sameAsProtobufjs('KV', 'Range', encodeRangeResponse, { header: header(9), kvs: big, more: false, count: 300 });
  });

  it('PutResponse with and without prev_kv', () => {
    sameAsProtobufjs('KV', 'Put', encodePutResponse, { header: header(3) });
    sameAsProtobufjs('KV', 'Put', encodePutResponse, { header: header(3), prev_kv: kv(4, '9223372036854775807') });
  });

  it('WatchResponse: created, canceled with reason, progress (watch_id -1), compaction, events with prev_kv', () => {
    const put = { type: 0, kv: kv(5), prev_kv: kv(4) };
    const del = { type: 1, kv: { key: Buffer.from('k'), create_revision: 0, mod_revision: 9, version: 0, value: Buffer.alloc(0), lease: 0 } };
    for (const msg of [
      { header: header(10), watch_id: 0, created: true, canceled: false, compact_revision: 0, cancel_reason: '', events: [] },
      { header: header(10), watch_id: -1, created: false, canceled: false, compact_revision: 0, cancel_reason: '', events: [] },
      { header: header(0), watch_id: 3, canceled: true, compact_revision: 77, cancel_reason: 'mvcc: required revision has been compacted ✓', events: [] },
      { header: header(11), watch_id: 2 ** 31, events: [put, del, put] },
      { header: header(12), watch_id: 1, fragment: true, events: [{ type: 0, kv: kv(6) }] },
    ]) {
      sameAsProtobufjs('Watch', 'Watch', encodeWatchResponse, msg);
    }
  });
});
