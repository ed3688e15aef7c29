/**
 * The gateway's converter: JSON requests become the messages proto-loader decodes from protobuf
 * (so the methods cannot tell the front-ends apart), and response messages become jsonpb's JSON.
 */
import type * as grpc from '@grpc/grpc-js';
import { describe, expect, it } from 'vitest';
import { EtcdError } from '../../src/errors';
import { Converter } from '../../src/rpc/gateway/convert';
import { parseJsonBody } from '../../src/rpc/gateway/json';
import { buildSchema } from '../../src/rpc/gateway/schema';
import { loadPackage } from '../../src/rpc/proto';

const pkg = loadPackage();
const conv = new Converter(buildSchema(pkg));
const def = (service: string, method: string) => (pkg[`etcdserverpb.${service}`] as grpc.ServiceDefinition)[method];
const fromJson = (type: string, json: string) => conv.fromJson<unknown>(`etcdserverpb.${type}`, parseJsonBody(json)).message;
/** What strata's gRPC server decodes from the protobuf of the same request. */
const overGrpc = (service: string, method: string, msg: object) => {
  const d = def(service, method);
  return d.requestDeserialize(d.requestSerialize(msg));
};
const failure = (type: string, json: string): { code: number; message: string } => {
  try {
    fromJson(type, json);
  } catch (e) {
    if (e instanceof EtcdError) return { code: e.code, message: e.message };
    throw e;
  }
  throw new Error(`no error for ${json}`);
};
const b64 = (s: string) => Buffer.from(s).toString('base64');

describe('Converter.fromJson', () => {
  it('yields what proto-loader decodes over gRPC: defaults filled, int64 strings, enum numbers, Buffers', () => {
    expect(fromJson('RangeRequest', '{}')).toEqual(overGrpc('KV', 'Range', {}));
    expect(conv.fromJson('etcdserverpb.RangeRequest', undefined).message).toEqual(overGrpc('KV', 'Range', {}));
    const json = `{"key":"${b64('a')}","rangeEnd":"${b64('b')}","limit":"10","revision":7,"sortOrder":"DESCEND","sort_target":4,"serializable":true,"maxCreateRevision":"9223372036854775807"}`;
    expect(fromJson('RangeRequest', json)).toEqual(
      overGrpc('KV', 'Range', {
        key: Buffer.from('a'),
        range_end: Buffer.from('b'),
        limit: 10,
        revision: 7,
        sort_order: 2,
        sort_target: 4,
        serializable: true,
        max_create_revision: '9223372036854775807',
      }),
    );
  });

  it('sets the oneof virtual field, nested messages and repeated fields as proto-loader does', () => {
    const json = `{"compare":[{"key":"${b64('k')}","target":"MOD","result":"LESS","mod_revision":"5"},{"key":"${b64('v')}","value":""}],
      "success":[{"request_put":{"key":"${b64('p')}","lease":"7587869000143409018"}},{"requestRange":{}}],"failure":[{}]}`;
    expect(fromJson('TxnRequest', json)).toEqual(
      overGrpc('KV', 'Txn', {
        compare: [
          { key: Buffer.from('k'), target: 2, result: 2, mod_revision: 5 },
          { key: Buffer.from('v'), value: Buffer.alloc(0) },
        ],
        success: [{ request_put: { key: Buffer.from('p'), lease: '7587869000143409018' } }, { request_range: {} }],
        failure: [{}],
      }),
    );
    expect(fromJson('WatchRequest', `{"create_request":{"key":"${b64('w')}","filters":["NODELETE",0],"start_revision":3}}`)).toEqual(
      overGrpc('Watch', 'Watch', { create_request: { key: Buffer.from('w'), filters: [1, 0], start_revision: 3 } }),
    );
  });

  it('int64 as string or number keeps every digit; out-of-range and fractions are refused in Go words', () => {
    expect(fromJson('LeaseRevokeRequest', '{"ID":7587869000143409018}')).toEqual({ ID: '7587869000143409018' });
    expect(fromJson('LeaseRevokeRequest', '{"ID":"-9223372036854775808"}')).toEqual({ ID: '-9223372036854775808' });
    expect(failure('LeaseRevokeRequest', '{"ID":9223372036854775808}')).toEqual({
      code: 3,
      message: 'json: cannot unmarshal number 9223372036854775808 into Go value of type int64',
    });
    expect(failure('RangeRequest', '{"limit":1.5}').message).toBe('json: cannot unmarshal number 1.5 into Go value of type int64');
    expect(failure('RangeRequest', '{"limit":true}').message).toBe('json: cannot unmarshal bool into Go value of type int64');
    expect(failure('RangeRequest', '{"serializable":"yes"}').message).toBe('json: cannot unmarshal string into Go value of type bool');
    expect(failure('RangeRequest', '[1]').message).toBe('json: cannot unmarshal array into Go value of type map[string]json.RawMessage');
    expect(failure('TxnRequest', '{"compare":{}}').message).toBe('json: cannot unmarshal object into Go value of type []json.RawMessage');
  });

  it('enums by name or number; an unknown name is refused', () => {
    expect(fromJson('RangeRequest', '{"sort_order":"ASCEND"}')).toMatchObject({ sort_order: 1 });
    expect(fromJson('RangeRequest', '{"sort_order":2}')).toMatchObject({ sort_order: 2 });
    // As in jsonpb, a quoted enum is looked up by name only.
    expect(failure('RangeRequest', '{"sort_order":"2"}').message).toBe('unknown value "2" for enum etcdserverpb.RangeRequest.SortOrder');
    expect(failure('RangeRequest', '{"sort_order":"UP"}').message).toBe('unknown value "UP" for enum etcdserverpb.RangeRequest.SortOrder');
  });

  it('bytes in standard base64 with its padding, as Go decodes it; a bad byte is reported by offset', () => {
    const bytes = Buffer.from([0xfb, 0xff, 0xfe, 0x01]);
    for (const text of [bytes.toString('base64'), `${bytes.toString('base64')}\\r\\n`]) {
      expect(fromJson('PutRequest', `{"key":"${text}"}`)).toMatchObject({ key: bytes });
    }
    expect(fromJson('PutRequest', '{"key":""}')).toMatchObject({ key: Buffer.alloc(0) });
    // Offsets as etcd's gateway (Go's base64.StdEncoding) reports them.
    expect(failure('PutRequest', '{"key":"ab*d"}').message).toBe('illegal base64 data at input byte 2');
    expect(failure('PutRequest', '{"key":"abcde"}').message).toBe('illegal base64 data at input byte 4');
    expect(failure('PutRequest', `{"key":"${bytes.toString('base64').replace(/=+$/, '')}"}`).message).toBe(
      'illegal base64 data at input byte 4',
    );
    expect(failure('PutRequest', '{"key":"YQ="}').message).toBe('illegal base64 data at input byte 3');
    expect(failure('PutRequest', '{"key":"YQ==x"}').message).toBe('illegal base64 data at input byte 4');
    expect(failure('PutRequest', '{"key":5}').message).toBe('json: cannot unmarshal number 5 into Go value of type []byte');
    // etcd 3.4's gateway takes no URL-safe alphabet: {"key":"-_-_"} answers this.
    expect(failure('PutRequest', `{"key":"${bytes.toString('base64url')}=="}`).message).toBe('illegal base64 data at input byte 0');
    expect(failure('PutRequest', '{"key":"-_-_"}').message).toBe('illegal base64 data at input byte 0');
  });

  it('ignores unknown fields; null means not set', () => {
    expect(fromJson('PutRequest', `{"bogus":{"x":1},"key":"${b64('k')}","lease":null}`)).toEqual(
      overGrpc('KV', 'Put', { key: Buffer.from('k') }),
    );
  });
});

describe('Converter.toJson', () => {
  it('writes proto names, int64 as strings, enums by name, bytes in base64, zero values left out', () => {
    const msg = {
      header: { cluster_id: '14841639068965178418', member_id: 1, revision: 0, raft_term: 2 },
      events: [
        { type: 0, kv: { key: Buffer.from('k'), create_revision: 3, mod_revision: 3, version: 1, value: Buffer.alloc(0), lease: 0 } },
        { type: 1, kv: { key: Buffer.from('d'), mod_revision: '4' }, prev_kv: null },
      ],
      watch_id: 0,
      created: true,
      canceled: false,
      cancel_reason: '',
    };
    expect(conv.toJson('etcdserverpb.WatchResponse', msg)).toEqual({
      header: { cluster_id: '14841639068965178418', member_id: '1', raft_term: '2' },
      created: true,
      events: [
        { kv: { key: b64('k'), create_revision: '3', mod_revision: '3', version: '1' } },
        { type: 'DELETE', kv: { key: b64('d'), mod_revision: '4' } },
      ],
    });
    // Field order is the proto's, as jsonpb writes it.
    expect(Object.keys(conv.toJson('etcdserverpb.WatchResponse', msg))).toEqual(['header', 'created', 'events']);
  });

  it('writes a set oneof member even when it is zero, and an empty sub-message', () => {
    expect(conv.toJson('etcdserverpb.Compare', { key: Buffer.from('k'), version: '0', target_union: 'version' })).toEqual({
      key: b64('k'),
      version: '0',
    });
    expect(conv.toJson('etcdserverpb.ResponseOp', { response_put: {} })).toEqual({ response_put: {} });
  });

  it('round-trips requests: JSON in, message, the same JSON out (zero values dropped)', () => {
    const cases: Array<[string, object, object]> = [
      [
        'RangeRequest',
        { key: b64('a'), rangeEnd: b64('b'), limit: 5, sortOrder: 2, keys_only: false },
        { key: b64('a'), range_end: b64('b'), limit: '5', sort_order: 'DESCEND' },
      ],
      [
        'PutRequest',
        { key: b64('k'), value: '', lease: '7587869000143409018', prevKv: true },
        { key: b64('k'), lease: '7587869000143409018', prev_kv: true },
      ],
      [
        'TxnRequest',
        { compare: [{ key: b64('k'), target: 'VALUE', value: b64('x') }], success: [{ requestDeleteRange: { key: b64('d') } }] },
        { compare: [{ target: 'VALUE', key: b64('k'), value: b64('x') }], success: [{ request_delete_range: { key: b64('d') } }] },
      ],
      [
        'WatchRequest',
        { create_request: { key: b64('w'), filters: ['NOPUT'], prevKv: true } },
        { create_request: { key: b64('w'), filters: ['NOPUT'], prev_kv: true } },
      ],
      ['LeaseGrantRequest', { TTL: 60, ID: 0 }, { TTL: '60' }],
    ];
    for (const [type, json, out] of cases) {
      const message = fromJson(type, JSON.stringify(json)) as object;
      expect(conv.toJson(`etcdserverpb.${type}`, message), type).toEqual(out);
    }
  });
});
