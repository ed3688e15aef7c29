/**
 * etcd's stored records as strata writes and reads them: KeyValue and Lease bytes as etcd itself
 * wrote them (taken from a real etcd 3.4 snapshot) and as protobufjs encodes them, revision keys,
 * the members bucket's JSON.
 */
import type * as grpc from '@grpc/grpc-js';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { loadPackage } from '../../src/rpc/proto';
import { clusterVersion } from '../../src/etcd-version';
import { memberEntry } from '../../src/snapshot/backend-layout';
import { keyBucketEntry, rowFromKeyBucket } from '../../src/snapshot/key-bucket';
import { decodeKeyValue, decodeLease, encodeKeyValue, encodeLease, type KeyValue } from '../../src/snapshot/key-value';
import { decodeRevisionKey, encodeRevisionKey } from '../../src/snapshot/revision-key';

const hex = (h: string) => Buffer.from(h, 'hex');
const b = (s: string) => Buffer.from(s);

describe('records as etcd 3.4 wrote them', () => {
  it('KeyValue: a put, a put with a lease, a tombstone', () => {
    expect(encodeKeyValue({ key: b('b'), createRevision: 3, modRevision: 3, version: 1, value: b('2'), lease: 0n }).toString('hex')).toBe(
      '0a01621003180320012a0132',
    );
    const leased = { key: b('c'), createRevision: 6, modRevision: 6, version: 1, value: b('4'), lease: 0x390da23109b17209n };
    expect(encodeKeyValue(leased).toString('hex')).toBe('0a01631006180620012a01343089e4c5cd90c6e88639');
    expect(decodeKeyValue(hex('0a01631006180620012a01343089e4c5cd90c6e88639'))).toEqual(leased);
    const tomb = {
      revision: 5,
      sub: 0,
      key: b('b'),
      createRevision: 0,
      prevRevision: 3,
      version: 0,
      lease: 0n,
      value: Buffer.alloc(0),
      deleted: true,
    };
    expect(keyBucketEntry(tomb).map((x) => x.toString('hex'))).toEqual(['00000000000000055f000000000000000074', '0a0162']);
    expect(rowFromKeyBucket(...keyBucketEntry(tomb), 3)).toEqual(tomb);
  });

  it('Lease: id and TTL, no remaining TTL', () => {
    const l = { id: 0x390da23109b17209n, ttl: 100, remainingTtl: 0 };
    expect(encodeLease(l).toString('hex')).toBe('0889e4c5cd90c6e886391064');
    expect(decodeLease(hex('0889e4c5cd90c6e886391064'))).toEqual(l);
  });

  it('revision keys: 8-byte main, "_", 8-byte sub, "t" for a tombstone', () => {
    expect(encodeRevisionKey(4, 0).toString('hex')).toBe('00000000000000045f0000000000000000');
    expect(encodeRevisionKey(2 ** 40 + 3, 7, true).toString('hex')).toBe('00000100000000035f000000000000000774');
    expect(decodeRevisionKey(hex('00000100000000035f000000000000000774'))).toEqual({ main: 2 ** 40 + 3, sub: 7, tombstone: true });
    expect(() => decodeRevisionKey(b('consistent_index'))).toThrow('is not a revision key');
  });

  it('members: the id in hex as key, Go JSON with the id as a 64-bit number', () => {
    const [k, v] = memberEntry({
      id: 13668033151171901709n,
      name: 'default',
      peerURLs: ['http://127.0.0.1:23801'],
      clientURLs: ['http://127.0.0.1:23791'],
    });
    expect(k.toString()).toBe('bdae9bbc11dd390d');
    expect(v.toString()).toBe(
      '{"id":13668033151171901709,"peerURLs":["http://127.0.0.1:23801"],"name":"default","clientURLs":["http://127.0.0.1:23791"]}',
    );
    const [k2, v2] = memberEntry({ id: 0xabn, name: '', peerURLs: [], clientURLs: [] });
    expect([k2.toString(), v2.toString()]).toEqual(['ab', '{"id":171,"peerURLs":[]}']);
    expect(memberEntry({ id: 1n, name: 'a<&>', peerURLs: [], clientURLs: [] })[1].toString()).toBe(
      '{"id":1,"peerURLs":[],"name":"a\\u003c\\u0026\\u003e"}',
    );
    expect(clusterVersion('3.5.21')).toBe('3.5.0');
  });
});

describe('KeyValue encoding against protobufjs', () => {
  const pkg = loadPackage();
  const range = (pkg['etcdserverpb.KV'] as grpc.ServiceDefinition).Range;
  /**
   * protobufjs's bytes for one KeyValue: a RangeResponse holding only it, minus field 2's tag and
   * length. protobufjs writes a zero it is given, gogoproto never does: zeros are left out here.
   */
  function protobufjs(kv: KeyValue): Buffer {
    const fields = {
      key: kv.key,
      create_revision: kv.createRevision,
      mod_revision: kv.modRevision,
      version: kv.version,
      value: kv.value,
      lease: kv.lease.toString(),
    };
    const set = Object.entries(fields).filter(([, v]) => !(v === 0 || v === '0' || (Buffer.isBuffer(v) && v.length === 0)));
    const wire = { kvs: [Object.fromEntries(set)] };
    const bytes = range.responseSerialize(wire);
    expect(bytes[0]).toBe(0x12);
    let pos = 1;
    while (bytes[pos] & 0x80) pos++;
    return bytes.subarray(pos + 1);
  }
  const int = fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 200 }), fc.maxSafeNat());
  const bytes = fc.oneof(
    fc.constant(Buffer.alloc(0)),
    fc.uint8Array({ minLength: 1, maxLength: 300 }).map((a) => Buffer.from(a)),
  );
  const kvArb = fc.record({
    key: fc.uint8Array({ minLength: 1, maxLength: 50 }).map((a) => Buffer.from(a)),
    createRevision: int,
    modRevision: int,
    version: int,
    value: bytes,
    lease: fc.oneof(fc.constant(0n), fc.bigInt({ min: 1n, max: 2n ** 63n - 1n })),
  });

  it('is byte-identical and decodes back (property)', () => {
    fc.assert(
      fc.property(kvArb, (kv) => {
        const mine = encodeKeyValue(kv);
        expect(mine.toString('hex')).toBe(protobufjs(kv).toString('hex'));
        expect(decodeKeyValue(mine)).toEqual(kv);
      }),
      { numRuns: 300 },
    );
  });
});
