/**
 * The codec: every request message as proto-loader decodes it (with defaults only, and with every
 * field set) to the mvcc request, and every mvcc result to the response message, read back through
 * protobufjs as a client would see it.
 */
import type * as grpc from '@grpc/grpc-js';
import { describe, expect, it } from 'vitest';
import type { KeyValue } from '../../src/mvcc/types';
import {
  decodeCompact,
  decodeDeleteRange,
  decodePut,
  decodeRange,
  encodeCompact,
  encodeDeleteRange,
  encodePut,
  encodeRange,
} from '../../src/rpc/codec/kv';
import {
  decodeLeaseGrant,
  decodeLeaseId,
  decodeLeaseTimeToLive,
  encodeLeaseGrant,
  encodeLeaseKeepAlive,
  encodeLeaseLeases,
  encodeLeaseRevoke,
  encodeLeaseTimeToLive,
} from '../../src/rpc/codec/lease';
import { alarmLines, decodeAlarm, encodeAlarm } from '../../src/rpc/codec/alarm';
import { encodeDefragment, encodeMemberList, encodeStatus } from '../../src/rpc/codec/maintenance';
import { encodeAuthHeader } from '../../src/rpc/codec/auth';
import { decodeTxn, encodeTxn } from '../../src/rpc/codec/txn';
import { decodeWatchRequest, encodeWatch } from '../../src/rpc/codec/watch';
import type * as pb from '../../src/rpc/messages';
import { loadPackage, type ServiceName } from '../../src/rpc/proto';

const pkg = loadPackage();
const def = (service: ServiceName, method: string) => (pkg[`etcdserverpb.${service}`] as grpc.ServiceDefinition)[method];
/** A request as a client encodes it and strata's gRPC server decodes it (T: the decoder's message type). */
const request = <T>(service: ServiceName, method: string, msg: object = {}): T => {
  const d = def(service, method);
  return d.requestDeserialize(d.requestSerialize(msg)) as T;
};
/** A response as strata encodes it and a client decodes it. */
const response = (service: ServiceName, method: string, msg: object): unknown => {
  const d = def(service, method);
  return d.responseDeserialize(d.responseSerialize(msg));
};

const id = { cluster_id: '14841639068965178418', member_id: '10276657743932975437', raft_term: 2 };
const hdr = (revision: number | string) => ({
  cluster_id: id.cluster_id,
  member_id: id.member_id,
  revision: String(revision),
  raft_term: '2',
});
const inner = (revision: number) => ({ cluster_id: '0', member_id: '0', revision: String(revision), raft_term: '0' });
const b = (s: string) => Buffer.from(s);
const E = Buffer.alloc(0);
const kv = (key: string, lease = 0n): KeyValue => ({
  key: b(key),
  create_revision: 2,
  mod_revision: 5,
  version: 3,
  value: b(`v-${key}`),
  lease,
});
const kvOut = (key: string, lease = '0') => ({
  key: b(key),
  create_revision: '2',
  mod_revision: '5',
  version: '3',
  value: b(`v-${key}`),
  lease,
});

const BIG = '7587869000143409018';

describe('codec: requests', () => {
  it('Range, defaults and every field', () => {
    expect(decodeRange(request('KV', 'Range'))).toEqual({
      key: E,
      range_end: E,
      limit: 0,
      revision: 0,
      sort_order: 0,
      sort_target: 0,
      serializable: false,
      keys_only: false,
      count_only: false,
      min_mod_revision: 0,
      max_mod_revision: 0,
      min_create_revision: 0,
      max_create_revision: 0,
    });
    const full = request<pb.RangeRequest>('KV', 'Range', {
      key: b('a'),
      range_end: b('b'),
      limit: 7,
      revision: '9007199254740991',
      sort_order: 2,
      sort_target: 4,
      serializable: true,
      keys_only: true,
      count_only: true,
      min_mod_revision: 11,
      max_mod_revision: 12,
      min_create_revision: 13,
      max_create_revision: 14,
    });
    expect(decodeRange(full)).toEqual({
      key: b('a'),
      range_end: b('b'),
      limit: 7,
      revision: 9007199254740991,
      sort_order: 2,
      sort_target: 4,
      serializable: true,
      keys_only: true,
      count_only: true,
      min_mod_revision: 11,
      max_mod_revision: 12,
      min_create_revision: 13,
      max_create_revision: 14,
    });
  });

  it('Put, DeleteRange and Compact, defaults and every field', () => {
    expect(decodePut(request('KV', 'Put'))).toEqual({
      key: E,
      value: E,
      lease: 0n,
      prev_kv: false,
      ignore_value: false,
      ignore_lease: false,
    });
    expect(
      decodePut(request('KV', 'Put', { key: b('k'), value: b('v'), lease: BIG, prev_kv: true, ignore_value: true, ignore_lease: true })),
    ).toEqual({
      key: b('k'),
      value: b('v'),
      lease: BigInt(BIG),
      prev_kv: true,
      ignore_value: true,
      ignore_lease: true,
    });
    expect(decodePut(request('KV', 'Put', { key: b('k'), lease: -3 })).lease).toBe(-3n);
    expect(decodeDeleteRange(request('KV', 'DeleteRange'))).toEqual({ key: E, range_end: E, prev_kv: false });
    expect(decodeDeleteRange(request('KV', 'DeleteRange', { key: b('a'), range_end: b('\0'), prev_kv: true }))).toEqual({
      key: b('a'),
      range_end: b('\0'),
      prev_kv: true,
    });
    expect(decodeCompact(request('KV', 'Compact'))).toEqual({ revision: 0, physical: false });
    expect(decodeCompact(request('KV', 'Compact', { revision: 42, physical: true }))).toEqual({ revision: 42, physical: true });
  });

  it('Txn: every compare target, every op kind, nesting, the empty op', () => {
    expect(decodeTxn(request('KV', 'Txn'))).toEqual({ compare: [], success: [], failure: [] });
    const cmp = (target: number, field: string, value: unknown) => ({ result: 3, target, key: b('k'), range_end: b('z'), [field]: value });
    const txn = request<pb.TxnRequest>('KV', 'Txn', {
      compare: [
        cmp(0, 'version', 0),
        cmp(1, 'create_revision', 4),
        cmp(2, 'mod_revision', 5),
        cmp(3, 'value', b('x')),
        cmp(4, 'lease', BIG),
        { key: b('n') },
      ],
      success: [
        { request_range: { key: b('r'), limit: 1 } },
        { request_put: { key: b('p'), value: b('v'), lease: 9 } },
        { request_delete_range: { key: b('d'), prev_kv: true } },
        { request_txn: { success: [{ request_put: { key: b('q') } }] } },
      ],
      failure: [{}],
    });
    const out = decodeTxn(txn);
    expect(out.compare.map((c) => c.operand)).toEqual([
      { kind: 'version', value: 0 },
      { kind: 'create_revision', value: 4 },
      { kind: 'mod_revision', value: 5 },
      { kind: 'value', value: b('x') },
      { kind: 'lease', value: BigInt(BIG) },
      { kind: 'none' },
    ]);
    expect(out.compare[0]).toMatchObject({ result: 3, target: 0, key: b('k'), range_end: b('z') });
    expect(out.compare[5]).toMatchObject({ result: 0, target: 0, key: b('n'), range_end: E });
    expect(out.success.map((op) => op.kind)).toEqual(['range', 'put', 'delete_range', 'txn']);
    expect(out.success[0]).toEqual({ kind: 'range', range: { ...decodeRange(request('KV', 'Range')), key: b('r'), limit: 1 } });
    expect(out.success[1]).toEqual({
      kind: 'put',
      put: { key: b('p'), value: b('v'), lease: 9n, prev_kv: false, ignore_value: false, ignore_lease: false },
    });
    expect(out.success[2]).toEqual({ kind: 'delete_range', delete_range: { key: b('d'), range_end: E, prev_kv: true } });
    expect(out.success[3]).toEqual({
      kind: 'txn',
      txn: {
        compare: [],
        success: [{ kind: 'put', put: { key: b('q'), value: E, lease: 0n, prev_kv: false, ignore_value: false, ignore_lease: false } }],
        failure: [],
      },
    });
    expect(out.failure).toEqual([{ kind: 'empty' }]);
  });

  it('Lease requests, defaults and every field', () => {
    expect(decodeLeaseGrant(request('Lease', 'LeaseGrant'))).toEqual({ id: 0n, ttl: 0 });
    expect(decodeLeaseGrant(request('Lease', 'LeaseGrant', { ID: BIG, TTL: 60 }))).toEqual({ id: BigInt(BIG), ttl: 60 });
    expect(decodeLeaseId(request('Lease', 'LeaseRevoke'))).toBe(0n);
    expect(decodeLeaseId(request('Lease', 'LeaseRevoke', { ID: BIG }))).toBe(BigInt(BIG));
    expect(decodeLeaseId(request('Lease', 'LeaseKeepAlive', { ID: '-9223372036854775808' }))).toBe(-(2n ** 63n));
    expect(decodeLeaseTimeToLive(request('Lease', 'LeaseTimeToLive'))).toEqual({ id: 0n, keys: false });
    expect(decodeLeaseTimeToLive(request('Lease', 'LeaseTimeToLive', { ID: 5, keys: true }))).toEqual({ id: 5n, keys: true });
  });

  it('Alarm, defaults and every field', () => {
    expect(decodeAlarm(request('Maintenance', 'Alarm'))).toEqual({ action: 'get', memberId: 0n, alarm: undefined });
    expect(decodeAlarm(request('Maintenance', 'Alarm', { action: 2, memberID: 7, alarm: 1 }))).toEqual({
      action: 'deactivate',
      memberId: 7n,
      alarm: 'NOSPACE',
    });
    expect(decodeAlarm(request('Maintenance', 'Alarm', { action: 1, memberID: BIG, alarm: 2 }))).toEqual({
      action: 'activate',
      memberId: BigInt(BIG),
      alarm: 'CORRUPT',
    });
  });

  it('WatchRequest: create (defaults and every field), cancel, progress, none', () => {
    expect(decodeWatchRequest(request('Watch', 'Watch'))).toEqual({ kind: 'none' });
    expect(decodeWatchRequest(request('Watch', 'Watch', { create_request: {} }))).toEqual({
      kind: 'create',
      create: {
        key: E,
        range_end: E,
        start_revision: 0,
        progress_notify: false,
        filters: [],
        prev_kv: false,
        watch_id: 0,
        fragment: false,
      },
    });
    const create = {
      key: b('a'),
      range_end: b('b'),
      start_revision: 17,
      progress_notify: true,
      filters: [0, 1],
      prev_kv: true,
      watch_id: 4,
      fragment: true,
    };
    expect(decodeWatchRequest(request('Watch', 'Watch', { create_request: create }))).toEqual({
      kind: 'create',
      create: { ...create, key: b('a'), range_end: b('b') },
    });
    expect(decodeWatchRequest(request('Watch', 'Watch', { cancel_request: { watch_id: 4 } }))).toEqual({ kind: 'cancel', watchId: 4 });
    expect(decodeWatchRequest(request('Watch', 'Watch', { cancel_request: {} }))).toEqual({ kind: 'cancel', watchId: 0 });
    expect(decodeWatchRequest(request('Watch', 'Watch', { progress_request: {} }))).toEqual({ kind: 'progress' });
  });
});

describe('codec: responses, as protobufjs encodes and a client decodes them', () => {
  it('Range, Put, DeleteRange, Compact', () => {
    expect(
      response('KV', 'Range', encodeRange({ header: { revision: 9 }, kvs: [kv('a'), kv('b', BigInt(BIG))], more: true, count: 5 }, id)),
    ).toEqual({
      header: hdr(9),
      kvs: [kvOut('a'), kvOut('b', BIG)],
      more: true,
      count: '5',
    });
    expect(response('KV', 'Range', encodeRange({ header: { revision: 1 }, kvs: [], more: false, count: 0 }, id))).toEqual({
      header: hdr(1),
      kvs: [],
      more: false,
      count: '0',
    });
    expect(response('KV', 'Put', encodePut({ header: { revision: 3 } }, id))).toEqual({ header: hdr(3), prev_kv: null });
    expect(response('KV', 'Put', encodePut({ header: { revision: 3 }, prev_kv: kv('p', -1n) }, id))).toEqual({
      header: hdr(3),
      prev_kv: kvOut('p', '-1'),
    });
    expect(response('KV', 'DeleteRange', encodeDeleteRange({ header: { revision: 4 }, deleted: 2, prev_kvs: [kv('x')] }, id))).toEqual({
      header: hdr(4),
      deleted: '2',
      prev_kvs: [kvOut('x')],
    });
    expect(response('KV', 'Compact', encodeCompact({ header: { revision: 8 } }, id))).toEqual({ header: hdr(8) });
  });

  it('Txn: nested responses carry only the revision in their headers', () => {
    const out = encodeTxn(
      {
        header: { revision: 20 },
        succeeded: true,
        responses: [
          { kind: 'range', range: { header: { revision: 20 }, kvs: [kv('r')], more: false, count: 1 } },
          { kind: 'put', put: { header: { revision: 20 }, prev_kv: kv('p') } },
          { kind: 'delete_range', delete_range: { header: { revision: 20 }, deleted: 1, prev_kvs: [] } },
          { kind: 'txn', txn: { header: { revision: 20 }, succeeded: false, responses: [] } },
        ],
      },
      id,
    );
    expect(response('KV', 'Txn', out)).toEqual({
      header: hdr(20),
      succeeded: true,
      responses: [
        { response: 'response_range', response_range: { header: inner(20), kvs: [kvOut('r')], more: false, count: '1' } },
        { response: 'response_put', response_put: { header: inner(20), prev_kv: kvOut('p') } },
        { response: 'response_delete_range', response_delete_range: { header: inner(20), deleted: '1', prev_kvs: [] } },
        { response: 'response_txn', response_txn: { header: inner(20), succeeded: false, responses: [] } },
      ],
    });
  });

  it('every Lease response', () => {
    expect(response('Lease', 'LeaseGrant', encodeLeaseGrant({ header: { revision: 2 }, ID: BigInt(BIG), TTL: 60 }, id))).toEqual({
      header: hdr(2),
      ID: BIG,
      TTL: '60',
      error: '',
    });
    expect(response('Lease', 'LeaseRevoke', encodeLeaseRevoke({ header: { revision: 3 } }, id))).toEqual({ header: hdr(3) });
    expect(response('Lease', 'LeaseKeepAlive', encodeLeaseKeepAlive({ header: { revision: 4 }, ID: 5n, TTL: 0 }, id))).toEqual({
      header: hdr(4),
      ID: '5',
      TTL: '0',
    });
    expect(
      response(
        'Lease',
        'LeaseTimeToLive',
        encodeLeaseTimeToLive({ header: { revision: 5 }, ID: 6n, TTL: -1, grantedTTL: 30, keys: [b('k1'), b('k2')] }, id),
      ),
    ).toEqual({ header: hdr(5), ID: '6', TTL: '-1', grantedTTL: '30', keys: [b('k1'), b('k2')] });
    expect(response('Lease', 'LeaseLeases', encodeLeaseLeases({ header: { revision: 6 }, leases: [1n, BigInt(BIG)] }, id))).toEqual({
      header: hdr(6),
      leases: [{ ID: '1' }, { ID: BIG }],
    });
  });

  it('Status, Alarm, Defragment, MemberList, AuthDisable', () => {
    expect(
      response('Maintenance', 'Status', encodeStatus({ revision: 12, db: { size: 4096, inUse: 1024 }, errors: [] }, id, '3.5.13')),
    ).toEqual({
      header: hdr(12),
      version: '3.5.13',
      dbSize: '4096',
      leader: id.member_id,
      raftIndex: '12',
      raftTerm: '2',
      errors: [],
      dbSizeInUse: '1024',
      isLearner: false,
      raftAppliedIndex: '12',
    });
    expect(response('Maintenance', 'Alarm', encodeAlarm({ revision: 7, alarms: [] }, id))).toEqual({ header: hdr(7), alarms: [] });
    expect(
      (
        response('Maintenance', 'Alarm', encodeAlarm({ revision: 7, alarms: [{ memberId: 9n, alarm: 'NOSPACE' }] }, id)) as {
          alarms: unknown;
        }
      ).alarms,
    ).toEqual([{ memberID: '9', alarm: 1 }]);
    expect(alarmLines([{ memberId: 13458989633860879742n, alarm: 'NOSPACE' }])).toEqual(['memberID:13458989633860879742 alarm:NOSPACE ']);
    expect(response('Maintenance', 'Defragment', encodeDefragment())).toEqual({ header: null });
    expect(response('Cluster', 'MemberList', encodeMemberList({ name: 'default', clientUrls: ['http://127.0.0.1:2379'] }, id))).toEqual({
      header: hdr(0),
      members: [{ ID: id.member_id, name: 'default', peerURLs: [], clientURLs: ['http://127.0.0.1:2379'], isLearner: false }],
    });
    expect(response('Auth', 'AuthDisable', encodeAuthHeader({ revision: 3 }, id))).toEqual({ header: hdr(3) });
  });

  it('Watch: created, canceled, events with prev_kv, progress (watch_id -1)', () => {
    const events = [
      { type: 0, kv: kv('a'), prev_kv: kv('a') },
      { type: 1, kv: { key: b('d'), create_revision: 0, mod_revision: 9, version: 0, value: E, lease: 0n } },
    ];
    expect(response('Watch', 'Watch', encodeWatch({ revision: 9, watch_id: 1, events }, id))).toEqual({
      header: hdr(9),
      watch_id: '1',
      created: false,
      canceled: false,
      compact_revision: '0',
      cancel_reason: '',
      fragment: false,
      events: [
        { type: 0, kv: kvOut('a'), prev_kv: kvOut('a') },
        { type: 1, kv: { key: b('d'), create_revision: '0', mod_revision: '9', version: '0', value: E, lease: '0' }, prev_kv: null },
      ],
    });
    expect(response('Watch', 'Watch', encodeWatch({ revision: 3, watch_id: 2, created: true, events: [] }, id))).toMatchObject({
      watch_id: '2',
      created: true,
    });
    expect(
      response(
        'Watch',
        'Watch',
        encodeWatch({ revision: 3, watch_id: 2, canceled: true, compact_revision: 2, cancel_reason: 'compacted', events: [] }, id),
      ),
    ).toMatchObject({ header: hdr(3), canceled: true, compact_revision: '2', cancel_reason: 'compacted' });
    expect(response('Watch', 'Watch', encodeWatch({ revision: 5, watch_id: -1, events: [] }, id))).toMatchObject({ watch_id: '-1' });
  });
});
