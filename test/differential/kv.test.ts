// KV: Put / Range / DeleteRange against etcd and strata. See harness.ts for the model (shared
// servers, revisions relative to each case's base unless `fresh`).
import { b, del, diffSuite, get, getAll, grpcError, put, seq, step, type Case, type Side } from './harness';

const SORT_TARGETS = ['KEY', 'VERSION', 'CREATE', 'MOD', 'VALUE'] as const;
const SORT_ORDERS = ['NONE', 'ASCEND', 'DESCEND'] as const;

/** Five keys whose version, create, mod and value orders all differ from key order. */
async function sortFixture(s: Side) {
  return seq(
    () => put(s, 'c', 'v3'), // base+1
    () => put(s, 'a', 'v5'), // +2
    () => put(s, 'e', 'v1'), // +3
    () => put(s, 'b', 'v4'), // +4
    () => put(s, 'd', 'v2'), // +5
    () => put(s, 'a', 'v5'), // +6  a: version 2
    () => put(s, 'e', 'v0'), // +7  e: version 2
    () => put(s, 'e', 'v1'), // +8  e: version 3
  );
}

const cases: Case[] = [
  {
    name: 'put and get',
    steps: [
      step('get missing key', (s) => get(s, 'a'), { etcd: { kvs: [], count: '0', more: false } }),
      step('put a=1', (s) => put(s, 'a', '1'), { etcd: { header: { revision: 'base+1' }, prev_kv: null } }),
      step('get a', (s) => get(s, 'a')),
      step('put a=2 prev_kv', (s) => put(s, 'a', '2', { prev_kv: true })),
      step('get a (version 2)', (s) => get(s, 'a'), { etcd: { kvs: [{ version: '2', value: '2' }] } }),
      step('put b with empty value', (s) => put(s, 'b', '')),
      step('get b', (s) => get(s, 'b')),
      step('put prev_kv on a new key', (s) => put(s, 'c', 'x', { prev_kv: true }), { etcd: { prev_kv: null } }),
      step('get whole prefix', (s) => getAll(s)),
    ],
  },
  {
    name: 'range_end forms within a prefix',
    steps: [
      step('setup', (s) =>
        seq(
          () => put(s, 'a', '1'),
          () => put(s, 'b', '2'),
          () => put(s, 'c', '3'),
          () => put(s, 'd', '4'),
        ),
      ),
      step('[a, c)', (s) => get(s, 'a', { range_end: s.k('c') })),
      step('[b, prefixEnd)', (s) => get(s, 'b', { range_end: s.end() })),
      step('range_end == key', (s) => get(s, 'b', { range_end: s.k('b') })),
      step('range_end < key', (s) => get(s, 'c', { range_end: s.k('a') })),
      step('range ending inside (a\\0 end)', (s) => get(s, 'a', { range_end: s.k('a\u0000') })),
      step('point get of missing key between keys', (s) => get(s, 'bb')),
      step('prefix of one key (a → b)', (s) => get(s, 'a', { range_end: s.end('a') })),
    ],
  },
  {
    name: 'whole keyspace: key "\\0", range_end "\\0"',
    fresh: true,
    steps: [
      step('empty store: all keys', (s) => s.c.kv.Range({ key: b('\0'), range_end: b('\0') }), {
        etcd: { header: { revision: '1' }, kvs: [], count: '0' },
      }),
      step('first put is revision 2', (s) => s.c.kv.Put({ key: b('m'), value: b('1') }), {
        etcd: { header: { revision: '2' } },
      }),
      step('more puts', (s) =>
        seq(
          () => s.c.kv.Put({ key: b('a'), value: b('1') }),
          () => s.c.kv.Put({ key: b('z'), value: b('1') }),
          () => s.c.kv.Put({ key: Buffer.from([0xff]), value: b('ff') }),
        ),
      ),
      step('key "\\0" (point get, missing)', (s) => s.c.kv.Range({ key: b('\0') }), { etcd: { kvs: [] } }),
      step('put key "\\0"', (s) => s.c.kv.Put({ key: b('\0'), value: b('nul') })),
      step('key "\\0" point get', (s) => s.c.kv.Range({ key: b('\0') }), { etcd: { count: '1' } }),
      step('key "\\0" range_end "\\0" (all keys)', (s) => s.c.kv.Range({ key: b('\0'), range_end: b('\0') }), {
        etcd: { count: '5' },
      }),
      step('from key m (range_end "\\0")', (s) => s.c.kv.Range({ key: b('m'), range_end: b('\0') }), {
        etcd: { count: '3' },
      }),
      step('from key m, limit 1', (s) => s.c.kv.Range({ key: b('m'), range_end: b('\0'), limit: 1 })),
      step('from key m, count_only', (s) => s.c.kv.Range({ key: b('m'), range_end: b('\0'), count_only: true })),
      step('delete from key z with prev_kv', (s) => s.c.kv.DeleteRange({ key: b('z'), range_end: b('\0'), prev_kv: true })),
      step('delete everything', (s) => s.c.kv.DeleteRange({ key: b('\0'), range_end: b('\0') }), {
        etcd: { deleted: '3' },
      }),
      step('all keys after delete', (s) => s.c.kv.Range({ key: b('\0'), range_end: b('\0') })),
      step('history: all keys at revision 5', (s) => s.c.kv.Range({ key: b('\0'), range_end: b('\0'), revision: 5 })),
    ],
  },
  {
    name: 'limit, more and count',
    steps: [
      step('setup 5 keys', (s) => seq(...['a', 'b', 'c', 'd', 'e'].map((k) => () => put(s, k, k)))),
      step('limit 2', (s) => getAll(s, { limit: 2 }), { etcd: { more: true, count: '5' } }),
      step('limit 5 (exact)', (s) => getAll(s, { limit: 5 }), { etcd: { more: false, count: '5' } }),
      step('limit 10', (s) => getAll(s, { limit: 10 })),
      step('limit 0 (no limit)', (s) => getAll(s, { limit: 0 })),
      step('limit -1', (s) => getAll(s, { limit: -1 })),
      step('limit 1 point get', (s) => get(s, 'c', { limit: 1 })),
      step('limit 2 count_only', (s) => getAll(s, { limit: 2, count_only: true })),
      step('limit 2 keys_only', (s) => getAll(s, { limit: 2, keys_only: true })),
      step('kube paging: page 2 from b\\0 pinned at base+5', (s) =>
        s.c.kv.Range({ key: s.k('b\0'), range_end: s.end(), limit: 2, revision: s.rev(5) }),
      ),
      step('kube paging: page 3 from d\\0', (s) => s.c.kv.Range({ key: s.k('d\0'), range_end: s.end(), limit: 2, revision: s.rev(5) })),
      step('write after page 1 then page at pinned revision', async (s) => {
        await put(s, 'bb', 'new');
        await del(s, 'e');
        return s.c.kv.Range({ key: s.k('b\0'), range_end: s.end(), limit: 2, revision: s.rev(5) });
      }),
      step('same page at current revision', (s) => s.c.kv.Range({ key: s.k('b\0'), range_end: s.end(), limit: 2 })),
    ],
  },
  {
    name: 'history reads (revision)',
    steps: [
      step('writes', (s) =>
        seq(
          () => put(s, 'a', '1'), // +1
          () => put(s, 'a', '2'), // +2
          () => put(s, 'b', '1'), // +3
          () => del(s, 'a'), // +4
          () => put(s, 'a', '3'), // +5
        ),
      ),
      ...[0, 1, 2, 3, 4, 5].map((n) => step(`prefix at base+${n}`, (s) => getAll(s, { revision: s.rev(n) }))),
      step('revision 0 = current', (s) => getAll(s, { revision: 0 })),
      step('point get a at base+2', (s) => get(s, 'a', { revision: s.rev(2) }), {
        etcd: { header: { revision: 'base+5' }, kvs: [{ value: '2', version: '2' }] },
      }),
      step('point get a at base+4 (deleted)', (s) => get(s, 'a', { revision: s.rev(4) }), { etcd: { kvs: [] } }),
      step('at base+6 (future)', (s) => getAll(s, { revision: s.rev(6) }), {
        etcd: grpcError('OUT_OF_RANGE', 'etcdserver: mvcc: required revision is a future revision'),
      }),
      step('count_only at base+3', (s) => getAll(s, { revision: s.rev(3), count_only: true })),
      step('limit 1 at base+3', (s) => getAll(s, { revision: s.rev(3), limit: 1 })),
    ],
  },
  {
    name: 'sort order x target',
    steps: [
      step('setup', (s) => sortFixture(s)),
      ...SORT_TARGETS.flatMap((target) =>
        SORT_ORDERS.map((order) => step(`sort ${target} ${order}`, (s) => getAll(s, { sort_target: target, sort_order: order }))),
      ),
      step('sort MOD DESCEND limit 2', (s) => getAll(s, { sort_target: 'MOD', sort_order: 'DESCEND', limit: 2 }), {
        etcd: { more: true, count: '5' },
      }),
      step('sort KEY DESCEND limit 2 (last keys)', (s) => getAll(s, { sort_order: 'DESCEND', limit: 2 })),
      step('sort VALUE ASCEND keys_only', (s) => getAll(s, { sort_target: 'VALUE', sort_order: 'ASCEND', keys_only: true })),
      step('sort CREATE DESCEND at base+5', (s) => getAll(s, { sort_target: 'CREATE', sort_order: 'DESCEND', revision: s.rev(5) })),
      step('sort VERSION NONE limit 3 (NONE + non-key target sorts ascending)', (s) =>
        getAll(s, { sort_target: 'VERSION', sort_order: 'NONE', limit: 3 }),
      ),
    ],
  },
  {
    name: 'keys_only and count_only',
    steps: [
      step('setup', (s) =>
        seq(
          () => put(s, 'a', 'aaa'),
          () => put(s, 'b', 'bbb'),
          () => put(s, 'b', 'bbbb'),
        ),
      ),
      step('keys_only', (s) => getAll(s, { keys_only: true }), { etcd: { kvs: [{ value: '' }, { value: '' }] } }),
      step('keys_only point', (s) => get(s, 'b', { keys_only: true })),
      step('count_only', (s) => getAll(s, { count_only: true }), { etcd: { kvs: [], count: '2', more: false } }),
      step('count_only + keys_only', (s) => getAll(s, { count_only: true, keys_only: true })),
      step('count_only of missing', (s) => get(s, 'zz', { count_only: true })),
    ],
  },
  {
    name: 'min/max mod/create revision filters',
    steps: [
      step('setup', (s) => sortFixture(s)),
      step('min_mod_revision base+4', (s) => getAll(s, { min_mod_revision: s.rev(4) })),
      step('max_mod_revision base+4', (s) => getAll(s, { max_mod_revision: s.rev(4) })),
      step('min_create_revision base+3', (s) => getAll(s, { min_create_revision: s.rev(3) })),
      step('max_create_revision base+2', (s) => getAll(s, { max_create_revision: s.rev(2) })),
      step('mod in [base+3, base+6]', (s) => getAll(s, { min_mod_revision: s.rev(3), max_mod_revision: s.rev(6) })),
      step('min_mod_revision + limit 1', (s) => getAll(s, { min_mod_revision: s.rev(6), limit: 1 })),
      step('min_mod_revision + count_only', (s) => getAll(s, { min_mod_revision: s.rev(6), count_only: true })),
      step('max_create_revision + sort VALUE DESCEND', (s) =>
        getAll(s, { max_create_revision: s.rev(4), sort_target: 'VALUE', sort_order: 'DESCEND' }),
      ),
      step('filters at history revision base+5', (s) =>
        getAll(s, { revision: s.rev(5), min_create_revision: s.rev(2), max_mod_revision: s.rev(4) }),
      ),
    ],
  },
  {
    name: 'serializable reads',
    steps: [
      step('put', (s) => put(s, 'a', '1')),
      step('serializable get', (s) => get(s, 'a', { serializable: true })),
      step('serializable prefix at base+1', (s) => getAll(s, { serializable: true, revision: s.rev(1) })),
    ],
  },
  {
    name: 'put prev_kv, ignore_value, ignore_lease',
    steps: [
      step('grant lease L (server-assigned id)', async (s) => {
        const r = await s.c.lease.LeaseGrant({ TTL: 600 });
        s.alias('L', r.ID);
        return r;
      }),
      step('put a=1 with lease L', (s) => put(s, 'a', '1', { lease: s.id('L') })),
      step('get a', (s) => get(s, 'a'), { etcd: { kvs: [{ lease: '<lease L>' }] } }),
      step('put a ignore_value prev_kv', (s) => put(s, 'a', '', { ignore_value: true, prev_kv: true })),
      step('get a (value kept, lease dropped?)', (s) => get(s, 'a')),
      step('put a=2 with lease L', (s) => put(s, 'a', '2', { lease: s.id('L') })),
      step('put a=3 ignore_lease prev_kv', (s) => put(s, 'a', '3', { ignore_lease: true, prev_kv: true })),
      step('get a (lease kept)', (s) => get(s, 'a'), { etcd: { kvs: [{ lease: '<lease L>', value: '3' }] } }),
      step('put a ignore_value + ignore_lease', (s) => put(s, 'a', '', { ignore_value: true, ignore_lease: true, prev_kv: true })),
      step('get a', (s) => get(s, 'a')),
      step('put a=4 without lease (detaches)', (s) => put(s, 'a', '4', { prev_kv: true })),
      step('get a (lease 0)', (s) => get(s, 'a'), { etcd: { kvs: [{ lease: '0' }] } }),
      step('ignore_value on missing key', (s) => put(s, 'zz', '', { ignore_value: true }), {
        etcd: grpcError('INVALID_ARGUMENT', 'etcdserver: key not found'),
      }),
      step('ignore_lease on missing key', (s) => put(s, 'zz', 'v', { ignore_lease: true }), {
        etcd: grpcError('INVALID_ARGUMENT', 'etcdserver: key not found'),
      }),
      step('revision after failed puts', (s) => get(s, 'zz')),
      step('timetolive L with keys', (s) => s.c.lease.LeaseTimeToLive({ ID: s.id('L'), keys: true }), {
        tolerance: { TTL: 1 },
      }),
      step('revoke L', (s) => s.c.lease.LeaseRevoke({ ID: s.id('L') })),
      step('get a after revoke (not attached, survives)', (s) => get(s, 'a')),
    ],
  },
  {
    name: 'delete ranges with prev_kv',
    steps: [
      step('setup', (s) => seq(...['a', 'b', 'c', 'd', 'e'].map((k) => () => put(s, k, `v${k}`)))),
      step('delete b prev_kv', (s) => del(s, 'b', { prev_kv: true }), { etcd: { deleted: '1' } }),
      step('delete [a, d) prev_kv', (s) => del(s, 'a', { range_end: s.k('d'), prev_kv: true }), {
        etcd: { deleted: '2', header: { revision: 'base+7' } },
      }),
      step('delete missing key: revision does not move', (s) => del(s, 'b', { prev_kv: true }), {
        etcd: { deleted: '0', prev_kvs: [], header: { revision: 'base+7' } },
      }),
      step('delete empty range', (s) => del(s, 'a', { range_end: s.k('c') }), {
        etcd: { deleted: '0', header: { revision: 'base+7' } },
      }),
      step('delete rest without prev_kv', (s) => del(s, '', { range_end: s.end() }), { etcd: { prev_kvs: [] } }),
      step('prefix empty', (s) => getAll(s)),
      step('history before deletes', (s) => getAll(s, { revision: s.rev(5) })),
      step('re-put b', (s) => put(s, 'b', 'again')),
      step('get b (new create_revision, version 1)', (s) => get(s, 'b'), { etcd: { kvs: [{ version: '1' }] } }),
    ],
  },
  {
    name: 'binary keys and values',
    steps: [
      step('setup', (s) =>
        seq(
          () => put(s, Buffer.from([0xff]), Buffer.from([0x00, 0x01, 0xfe, 0xff])),
          () => put(s, Buffer.from([0xff, 0xff]), 'ffff'),
          () => put(s, Buffer.from([0x00]), 'nul'),
          () => put(s, Buffer.from([0x00, 0x01]), Buffer.from([0xc3, 0x28])),
          () => put(s, Buffer.from([0x80]), 'x80'),
          () => put(s, Buffer.from([0xc3, 0xa9]), 'é utf8'),
          () => put(s, Buffer.from([0xe9]), 'latin1 é'),
          () => put(s, 'Z', 'upper'),
          () => put(s, 'a', 'lower'),
          () => put(s, 'z', Buffer.alloc(300, 0)),
        ),
      ),
      step('all keys in byte order', (s) => getAll(s)),
      step('sort KEY DESCEND', (s) => getAll(s, { sort_order: 'DESCEND' })),
      step('sort VALUE ASCEND', (s) => getAll(s, { sort_target: 'VALUE', sort_order: 'ASCEND', keys_only: true })),
      step('point get 0xff', (s) => get(s, Buffer.from([0xff]))),
      step('prefix 0xff (range_end = prefix end)', (s) =>
        s.c.kv.Range({ key: s.k(Buffer.from([0xff])), range_end: s.end(Buffer.from([0xff])) }),
      ),
      step('range [0x80, 0xff)', (s) => get(s, Buffer.from([0x80]), { range_end: s.k(Buffer.from([0xff])) })),
      step('prefix 0x00', (s) => s.c.kv.Range({ key: s.k(Buffer.from([0])), range_end: s.end(Buffer.from([0])) })),
      step('delete 0xc3 0xa9 prev_kv', (s) => del(s, Buffer.from([0xc3, 0xa9]), { prev_kv: true })),
      step('delete [0x80, 0xff] prev_kv', (s) => del(s, Buffer.from([0x80]), { range_end: s.k(Buffer.from([0xff, 0x00])), prev_kv: true })),
      step('all after deletes', (s) => getAll(s, { keys_only: true })),
    ],
  },
  {
    name: 'version counting and re-create after delete',
    steps: [
      step('put a x3', (s) =>
        seq(
          () => put(s, 'a', '1'),
          () => put(s, 'a', '2'),
          () => put(s, 'a', '3'),
        ),
      ),
      step('get a (version 3, create base+1)', (s) => get(s, 'a'), {
        etcd: { kvs: [{ version: '3', create_revision: 'base+1', mod_revision: 'base+3' }] },
      }),
      step('delete a prev_kv', (s) => del(s, 'a', { prev_kv: true })),
      step('get a (gone)', (s) => get(s, 'a')),
      step('re-create a', (s) => put(s, 'a', 'new', { prev_kv: true }), { etcd: { prev_kv: null } }),
      step('get a (version 1, new create_revision)', (s) => get(s, 'a'), {
        etcd: { kvs: [{ version: '1', create_revision: 'base+5' }] },
      }),
      step('history: a at base+3', (s) => get(s, 'a', { revision: s.rev(3) })),
      step('put a again', (s) => put(s, 'a', 'newer')),
      step('get a (version 2)', (s) => get(s, 'a')),
    ],
  },
];

diffSuite('kv', cases);
