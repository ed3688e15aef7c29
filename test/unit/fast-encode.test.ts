/**
 * The hand-written encoders must produce what protobufjs produces from the codec's message for the
 * same mvcc result, as read back by protobufjs: every field, zero values, negative int64s, 64-bit
 * ids beyond 2^53, empty and large bytes.
 */
import type * as grpc from '@grpc/grpc-js';
import { describe, expect, it } from 'vitest';
import type { Event, KeyValue, PutResponse, RangeResponse } from '../../src/mvcc/types';
import { encodePut, encodeRange } from '../../src/rpc/codec/kv';
import { encodeWatch } from '../../src/rpc/codec/watch';
import { fastEncoders, type FastWatchResponse } from '../../src/rpc/fast-encode';
import { loadPackage } from '../../src/rpc/proto';

const pkg = loadPackage();
const method = (service: string, name: string) => (pkg[`etcdserverpb.${service}`] as grpc.ServiceDefinition)[name];

function sameAsProtobufjs(service: string, name: string, fast: Buffer, msg: object): void {
  const m = method(service, name);
  const reference = m.responseDeserialize(m.responseSerialize(msg));
  expect(m.responseDeserialize(fast)).toEqual(reference);
}

const id = { cluster_id: '18446744073709551615', member_id: '9223372036854775807', raft_term: 2 };
const fast = fastEncoders(id);
const kv = (i: number, lease = 0n): KeyValue => ({
  key: Buffer.from(`/registry/pods/ns/p${i}`),
  create_revision: i + 1,
  mod_revision: i * 1000 + 7,
  version: i,
  value: Buffer.alloc(i * 37, i),
  lease,
});

const range = (r: RangeResponse) => sameAsProtobufjs('KV', 'Range', fast.range(r), encodeRange(r, id));
const put = (r: PutResponse) => sameAsProtobufjs('KV', 'Put', fast.put(r), encodePut(r, id));
const watch = (r: FastWatchResponse) => sameAsProtobufjs('Watch', 'Watch', fast.watch(r), { ...encodeWatch(r, id), fragment: r.fragment });

describe('fast encoders', () => {
  it('RangeResponse: headers, kvs of every shape, more, count', () => {
    range({ header: { revision: 123456789 }, kvs: [], more: false, count: 0 });
    range({
      header: { revision: 2 ** 40 },
      kvs: [kv(0), kv(1, 7587869000143409018n), kv(2, 1n), kv(300), kv(4, -1n)],
      more: true,
      count: 10_000,
    });
    // A header with zero ids (as inside a txn) carries only the revision.
    const inner: RangeResponse = { header: { revision: 5 }, kvs: [kv(3)], more: false, count: 1 };
    const zeroIds = fastEncoders({ cluster_id: '0', member_id: '0', raft_term: 0 });
    sameAsProtobufjs('KV', 'Range', zeroIds.range(inner), encodeRange(inner, null));
    const big = Array.from({ length: 300 }, (_, i) => ({ ...kv(i % 50), value: Buffer.alloc(1024, i) }));
    range({ header: { revision: 9 }, kvs: big, more: false, count: 300 });
  });

  it('PutResponse with and without prev_kv', () => {
    put({ header: { revision: 3 } });
    put({ header: { revision: 3 }, prev_kv: kv(4, 9223372036854775807n) });
  });

  it('WatchResponse: created, canceled with reason, progress (watch_id -1), compaction, events with prev_kv', () => {
    const putEvent: Event = { type: 0, kv: kv(5), prev_kv: kv(4) };
    const del: Event = {
      type: 1,
      kv: { key: Buffer.from('k'), create_revision: 0, mod_revision: 9, version: 0, value: Buffer.alloc(0), lease: 0n },
    };
    for (const msg of [
      { revision: 10, watch_id: 0, created: true, canceled: false, compact_revision: 0, cancel_reason: '', events: [] },
      { revision: 10, watch_id: -1, created: false, canceled: false, compact_revision: 0, cancel_reason: '', events: [] },
      {
        revision: 0,
        watch_id: 3,
        canceled: true,
        compact_revision: 77,
        cancel_reason: 'mvcc: required revision has been compacted ✓',
        events: [],
      },
      { revision: 11, watch_id: 2 ** 31, events: [putEvent, del, putEvent] },
      { revision: 12, watch_id: 1, fragment: true, events: [{ type: 0, kv: kv(6) }] },
    ]) {
      watch(msg);
    }
  });
});
