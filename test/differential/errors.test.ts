// Errors: validation failures compared as {code, details}; every failed request must also leave the
// revision alone (checked by the reads between them).
import { b, diffSuite, get, getAll, grpcError, put, step, type Case, type Msg, type Side } from './harness';

const EMPTY_KEY = grpcError('INVALID_ARGUMENT', 'etcdserver: key is not provided');
const TOO_MANY_OPS = grpcError('INVALID_ARGUMENT', 'etcdserver: too many operations in txn request');
const DUPLICATE = grpcError('INVALID_ARGUMENT', 'etcdserver: duplicate key given in txn request');
const TOO_LARGE = grpcError('INVALID_ARGUMENT', 'etcdserver: request is too large');
const INVALID_SORT = grpcError('INVALID_ARGUMENT', 'etcdserver: invalid sort option');
const SORT_WHY = 'etcd 3.4/3.5.1 panic on an unknown sort_target; newer etcd answers "invalid sort option"';

/** n puts of distinct keys under the case prefix. */
function puts(s: Side, n: number, tag = 'k'): Msg[] {
  return Array.from({ length: n }, (_, i) => ({ request_put: { key: s.k(`${tag}${i}`), value: b('v') } }));
}

const cases: Case[] = [
  {
    name: 'empty key',
    steps: [
      step('Put', (s) => s.c.kv.Put({ key: b(''), value: b('v') }), { etcd: EMPTY_KEY }),
      step('Range', (s) => s.c.kv.Range({ key: b('') }), { etcd: EMPTY_KEY }),
      step('Range with range_end', (s) => s.c.kv.Range({ key: b(''), range_end: b('\0') })),
      step('DeleteRange', (s) => s.c.kv.DeleteRange({ key: b('') }), { etcd: EMPTY_KEY }),
      step('DeleteRange with range_end', (s) => s.c.kv.DeleteRange({ key: b(''), range_end: s.end() })),
      step('Txn put', (s) => s.c.kv.Txn({ success: [{ request_put: { key: b(''), value: b('v') } }] }), { etcd: EMPTY_KEY }),
      step('Txn range', (s) => s.c.kv.Txn({ success: [{ request_range: { key: b('') } }] })),
      step('Txn delete', (s) => s.c.kv.Txn({ success: [{ request_delete_range: { key: b('') } }] })),
      step('Txn put in the failure branch', (s) => s.c.kv.Txn({ failure: [{ request_put: { key: b(''), value: b('v') } }] })),
      step('Txn nested put', (s) =>
        s.c.kv.Txn({ success: [{ request_txn: { success: [{ request_put: { key: b(''), value: b('v') } }] } }] }),
      ),
      step('Txn compare with empty key', (s) =>
        s.c.kv.Txn({ compare: [{ key: b(''), target: 'VERSION', result: 'EQUAL', version: 0 }], success: [] }),
      ),
      step('revision did not move', (s) => get(s, 'a'), { etcd: { header: { revision: 'base+0' } } }),
    ],
  },
  {
    name: 'too many operations in a txn (> 128)',
    steps: [
      step('128 puts succeed', (s) => s.c.kv.Txn({ success: puts(s, 128) }), {
        post: (v) => ({ ...(v as Msg), responses: ((v as Msg).responses as Msg[]).length }),
        etcd: { succeeded: true, responses: 128, header: { revision: 'base+1' } },
      }),
      step('129 puts', (s) => s.c.kv.Txn({ success: puts(s, 129) }), { etcd: TOO_MANY_OPS }),
      step('129 ops in the failure branch', (s) => s.c.kv.Txn({ failure: puts(s, 129) }), { etcd: TOO_MANY_OPS }),
      step(
        '129 compares',
        (s) =>
          s.c.kv.Txn({
            compare: Array.from({ length: 129 }, () => ({ key: s.k('k0'), target: 'VERSION', result: 'GREATER', version: 0 })),
          }),
        { etcd: TOO_MANY_OPS },
      ),
      step('100 success + 100 failure ops', (s) => s.c.kv.Txn({ success: puts(s, 100, 's'), failure: puts(s, 100, 'f') }), {
        post: (v) => ('responses' in (v as Msg) ? { ...(v as Msg), responses: ((v as Msg).responses as Msg[]).length } : v),
      }),
      step('129 ranges', (s) => s.c.kv.Txn({ success: Array.from({ length: 129 }, () => ({ request_range: { key: s.k('k0') } })) })),
      // A nested txn's op budget is max-txn-ops minus the op count of the level above (128 - 1).
      step('nested txn with 128 ops (outer has 1 op)', (s) => s.c.kv.Txn({ success: [{ request_txn: { success: puts(s, 128, 'm') } }] }), {
        etcd: TOO_MANY_OPS,
      }),
      step('nested txn with 127 ops (outer has 1 op)', (s) => s.c.kv.Txn({ success: [{ request_txn: { success: puts(s, 127, 'm') } }] }), {
        post: (v) => ('responses' in (v as Msg) ? { ...(v as Msg), responses: ((v as Msg).responses as Msg[]).length } : v),
        etcd: { succeeded: true },
      }),
      step('nested txn with 129 ops', (s) => s.c.kv.Txn({ success: [{ request_txn: { success: puts(s, 129, 'n') } }] })),
      step('count', (s) => getAll(s, { count_only: true })),
    ],
  },
  {
    name: 'duplicate keys in a txn',
    steps: [
      step(
        'put + put',
        (s) =>
          s.c.kv.Txn({ success: [{ request_put: { key: s.k('a'), value: b('1') } }, { request_put: { key: s.k('a'), value: b('2') } }] }),
        { etcd: DUPLICATE },
      ),
      step(
        'put + delete of the same key',
        (s) => s.c.kv.Txn({ success: [{ request_put: { key: s.k('a'), value: b('1') } }, { request_delete_range: { key: s.k('a') } }] }),
        { etcd: DUPLICATE },
      ),
      step(
        'put + delete range covering it',
        (s) =>
          s.c.kv.Txn({
            success: [{ request_put: { key: s.k('b'), value: b('1') } }, { request_delete_range: { key: s.k('a'), range_end: s.k('c') } }],
          }),
        { etcd: DUPLICATE },
      ),
      step('delete range then put inside it', (s) =>
        s.c.kv.Txn({
          success: [{ request_delete_range: { key: s.k(''), range_end: s.end() } }, { request_put: { key: s.k('b'), value: b('1') } }],
        }),
      ),
      step('put + delete range not covering it', (s) =>
        s.c.kv.Txn({
          success: [{ request_put: { key: s.k('c'), value: b('1') } }, { request_delete_range: { key: s.k('a'), range_end: s.k('c') } }],
        }),
      ),
      step('two overlapping delete ranges', (s) =>
        s.c.kv.Txn({
          success: [
            { request_delete_range: { key: s.k('a'), range_end: s.k('d') } },
            { request_delete_range: { key: s.k('b'), range_end: s.k('e') } },
          ],
        }),
      ),
      step('delete the same key twice', (s) =>
        s.c.kv.Txn({ success: [{ request_delete_range: { key: s.k('c') } }, { request_delete_range: { key: s.k('c') } }] }),
      ),
      step('put + range of the same key (allowed)', (s) =>
        s.c.kv.Txn({ success: [{ request_put: { key: s.k('a'), value: b('1') } }, { request_range: { key: s.k('a') } }] }),
      ),
      step('same key in success and failure (allowed)', (s) =>
        s.c.kv.Txn({
          success: [{ request_put: { key: s.k('a'), value: b('2') } }],
          failure: [{ request_put: { key: s.k('a'), value: b('3') } }],
        }),
      ),
      step(
        'outer put + nested put of the same key',
        (s) =>
          s.c.kv.Txn({
            success: [
              { request_put: { key: s.k('a'), value: b('1') } },
              { request_txn: { success: [{ request_put: { key: s.k('a'), value: b('2') } }] } },
            ],
          }),
        { etcd: DUPLICATE },
      ),
      step('outer put + nested put in the nested failure branch', (s) =>
        s.c.kv.Txn({
          success: [
            { request_put: { key: s.k('a'), value: b('1') } },
            { request_txn: { failure: [{ request_put: { key: s.k('a'), value: b('2') } }] } },
          ],
        }),
      ),
      step('nested success and nested failure put the same key', (s) =>
        s.c.kv.Txn({
          success: [
            {
              request_txn: {
                success: [{ request_put: { key: s.k('n'), value: b('1') } }],
                failure: [{ request_put: { key: s.k('n'), value: b('2') } }],
              },
            },
          ],
        }),
      ),
      step('two nested txns putting the same key', (s) =>
        s.c.kv.Txn({
          success: [
            { request_txn: { success: [{ request_put: { key: s.k('m'), value: b('1') } }] } },
            { request_txn: { success: [{ request_put: { key: s.k('m'), value: b('2') } }] } },
          ],
        }),
      ),
      step('outer delete range + nested put inside it', (s) =>
        s.c.kv.Txn({
          success: [
            { request_delete_range: { key: s.k('x'), range_end: s.end('x') } },
            { request_txn: { success: [{ request_put: { key: s.k('x1'), value: b('2') } }] } },
          ],
        }),
      ),
      step('state', (s) => getAll(s)),
    ],
  },
  {
    name: 'request too large',
    steps: [
      step('Put with a 1.6 MiB value', (s) => put(s, 'big', Buffer.alloc(1.6 * 1024 * 1024, 0x61)), { etcd: TOO_LARGE }),
      step(
        'Txn put with a 1.6 MiB value',
        (s) => s.c.kv.Txn({ success: [{ request_put: { key: s.k('big'), value: Buffer.alloc(1.6 * 1024 * 1024, 0x61) } }] }),
        { etcd: TOO_LARGE },
      ),
      step('Put with a 1.4 MiB value succeeds', (s) => put(s, 'big', Buffer.alloc(1.4 * 1024 * 1024, 0x61))),
      step('Range of the 1.4 MiB value (size only)', async (s) => {
        const r = await get(s, 'big');
        return { ...r, kvs: r.kvs.map((kv: Msg) => ({ ...kv, value: (kv.value as Buffer).length })) };
      }),
      step('revision', (s) => get(s, 'none')),
    ],
  },
  {
    name: 'put option conflicts, unknown lease, bad sort, bad revisions',
    steps: [
      step('setup a', (s) => put(s, 'a', '1')),
      step('ignore_value with a value', (s) => put(s, 'a', 'x', { ignore_value: true }), {
        etcd: grpcError('INVALID_ARGUMENT', 'etcdserver: value is provided'),
      }),
      step('ignore_lease with a lease', (s) => put(s, 'a', '', { ignore_lease: true, lease: 9001 }), {
        etcd: grpcError('INVALID_ARGUMENT', 'etcdserver: lease is provided'),
      }),
      step('txn put ignore_value with a value', (s) =>
        s.c.kv.Txn({ success: [{ request_put: { key: s.k('a'), value: b('x'), ignore_value: true } }] }),
      ),
      step('put with unknown lease', (s) => put(s, 'a', 'x', { lease: 9002 }), {
        etcd: grpcError('NOT_FOUND', 'etcdserver: requested lease not found'),
      }),
      // Invalid sort options are not sent to etcd: 3.4.23 panics on an unknown sort_target (observed:
      // the server dies, the client sees UNAVAILABLE "read ECONNRESET"; 3.5.1 too, etcd issue #13554)
      // and silently ignores an unknown sort_order. Newer etcd validates both up front with
      // InvalidArgument "etcdserver: invalid sort option" (rpctypes.ErrGRPCInvalidSortOption), which
      // is what strata must answer instead of crashing.
      step('invalid sort_order (7)', (s) => getAll(s, { sort_order: 7 }), { peerOnly: { expect: INVALID_SORT, why: SORT_WHY } }),
      step('invalid sort_target (9)', (s) => getAll(s, { sort_target: 9 }), { peerOnly: { expect: INVALID_SORT, why: SORT_WHY } }),
      step(
        'invalid sort_target in a txn range',
        (s) => s.c.kv.Txn({ success: [{ request_range: { key: s.k('a'), sort_target: 9, sort_order: 'ASCEND' } }] }),
        { peerOnly: { expect: INVALID_SORT, why: SORT_WHY } },
      ),
      step('Range future revision', (s) => getAll(s, { revision: s.rev(5) }), {
        etcd: grpcError('OUT_OF_RANGE', 'etcdserver: mvcc: required revision is a future revision'),
      }),
      step('Range negative revision', (s) => getAll(s, { revision: -1 })),
      step('Range negative limit', (s) => getAll(s, { limit: -5 })),
      step('lease grant too large TTL', (s) => s.c.lease.LeaseGrant({ TTL: '9000000001' }), {
        etcd: grpcError('OUT_OF_RANGE', 'etcdserver: too large lease TTL'),
      }),
      step('revision did not move', (s) => getAll(s), { etcd: { header: { revision: 'base+1' } } }),
    ],
  },
];

diffSuite('errors', cases);
