/**
 * A stored version's KeyValue bytes, and Range responses framed from them, must be exactly the bytes
 * protobufjs writes for the same message with its zero fields left out (what etcd, in Go, sends):
 * every field, zero values, leases beyond 2^53 and negative, empty and large values, binary keys.
 */
import type * as grpc from '@grpc/grpc-js';
import { describe, expect, it } from 'vitest';
import type { LogRow } from '../../src/log/types';
import { Version } from '../../src/mvcc/kv-bytes';
import { readRange } from '../../src/mvcc/range';
import { RevisionIndex } from '../../src/mvcc/revision-index';
import { Slabs } from '../../src/mvcc/slabs';
import type { KeyValue, RangeResponse } from '../../src/mvcc/types';
import { fastEncoders } from '../../src/rpc/fast-encode';
import { loadPackage } from '../../src/rpc/proto';
import { rangeRequest } from '../helpers/requests';
import { WIRE_LEN, Writer, varintSize } from '../../src/protobuf-writer';

const Range = (loadPackage()['etcdserverpb.KV'] as grpc.ServiceDefinition).Range;
const id = { cluster_id: '18446744073709551615', member_id: '9223372036854775807', raft_term: 2 };
const fast = fastEncoders(id);

const row = (revision: number, extra: Partial<LogRow> = {}): LogRow => ({
  revision,
  sub: 0,
  key: Buffer.from(`/registry/pods/ns/p${revision}`),
  createRevision: revision,
  prevRevision: 0,
  version: 1,
  lease: 0n,
  value: Buffer.from(`value of ${revision}`),
  deleted: false,
  ...extra,
});

/** An object with only the non-zero fields, as protobufjs then writes only those. */
function nonZero(o: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(o)) {
    if (v === 0 || v === 0n || v === false || v === '0' || (Buffer.isBuffer(v) && v.length === 0)) continue;
    out[k] = typeof v === 'bigint' ? v.toString() : v;
  }
  return out;
}

const kvMessage = (kv: KeyValue) =>
  nonZero({
    key: kv.key,
    create_revision: kv.create_revision,
    mod_revision: kv.mod_revision,
    version: kv.version,
    value: kv.value,
    lease: kv.lease,
  });

/** protobufjs's bytes of a RangeResponse, zero fields left out. */
function reference(r: RangeResponse): Buffer {
  const header = nonZero({ ...id, revision: r.header.revision });
  return Range.responseSerialize({ ...nonZero({ more: r.more, count: r.count }), header, kvs: r.kvs.map(kvMessage) });
}

const shapes: Array<Partial<LogRow>> = [
  {},
  { value: Buffer.alloc(0) },
  { lease: 7587869000143409018n },
  { lease: 1n },
  { lease: -1n },
  { version: 300, createRevision: 2 },
  { value: Buffer.alloc(1 << 20, 7) },
  { key: Buffer.from([0, 0xff, 0x80, 0x7f]) },
  { createRevision: 2 ** 31, version: 2 ** 40 },
];

describe('kept KeyValue bytes', () => {
  it('are what protobufjs writes for the KeyValue, with the key and the value views into them', () => {
    const slabs = new Slabs();
    for (const [i, shape] of shapes.entries()) {
      const r = row(Number.MAX_SAFE_INTEGER - i, shape);
      const key = Buffer.from(r.key);
      const value = Buffer.from(r.value);
      const given = { ...r, key: Buffer.from(key), value: Buffer.from(value) };
      const v = new Version(given, slabs);
      // The version holds a copy: the driver's or the request's buffers can be reused or freed.
      given.key.fill(0xee);
      given.value.fill(0xee);
      const kv: KeyValue = {
        key: Buffer.from(v.key),
        create_revision: r.createRevision,
        mod_revision: r.revision,
        version: r.version,
        value,
        lease: r.lease,
      };
      const bytes = v.bytes();
      // A RangeResponse holding only this KeyValue: field 2, then the message's own bytes.
      const ref = Range.responseSerialize({ kvs: [kvMessage(kv)] });
      const field = new Writer(Buffer.alloc(1 + varintSize(bytes.length)));
      field.tag(2, WIRE_LEN);
      field.varint(bytes.length);
      expect(Buffer.concat([field.buf, bytes]).equals(ref), JSON.stringify(nonZero(shape))).toBe(true);
      expect(v.value.equals(value)).toBe(true);
      expect(v.key.equals(key)).toBe(true);
      if (value.length > 0) expect(v.value.buffer).toBe(bytes.buffer);
      expect(v.key.buffer).toBe(bytes.buffer);
      expect(v.bytes().equals(bytes) && v.bytes().byteOffset === bytes.byteOffset).toBe(true);
      expect([v.revision, v.createRevision, v.version, v.lease, v.deleted]).toEqual([
        r.revision,
        r.createRevision,
        r.version,
        r.lease,
        r.deleted,
      ]);
    }
  });

  it('frame Range responses byte for byte as protobufjs, with and without kept bytes', () => {
    const index = new RevisionIndex();
    for (const [i, shape] of shapes.entries()) {
      const r = row(i + 2, { ...shape, key: Buffer.from(`k/${i}`), createRevision: i + 2 });
      index.commitTo([index.append(r.key.toString('latin1'), r)], i + 2);
    }
    const req = (extra: object) => rangeRequest({ key: Buffer.from('k/'), range_end: Buffer.from('k0'), serializable: true, ...extra });
    for (const extra of [{}, { limit: 3 }, { keys_only: true }, { sort_order: 2, sort_target: 4 }, { count_only: true }]) {
      for (let pass = 0; pass < 2; pass++) {
        const res = readRange(index, req(extra), index.revision);
        const r: RangeResponse = { header: { revision: index.revision }, ...res };
        // A keys-only read has no value to send, so its KeyValues are encoded field by field.
        for (const kv of r.kvs) expect(kv.encoded !== undefined).toBe(!('keys_only' in extra));
        expect(fast.range(r).equals(reference(r)), JSON.stringify(extra)).toBe(true);
        // The same response from the fields alone (no kept bytes) is the same bytes.
        const bare = { ...r, kvs: r.kvs.map(({ encoded: _e, ...kv }) => kv) };
        expect(fast.range(bare).equals(reference(r))).toBe(true);
      }
    }
  });
});
