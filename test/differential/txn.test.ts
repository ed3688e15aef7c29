// Txn: compares, branches, multi-op and nested transactions, kube-apiserver shapes.
import { b, diffSuite, get, getAll, grpcError, put, seq, step, type Case, type Msg, type Side } from './harness';

const RESULTS = ['EQUAL', 'GREATER', 'LESS', 'NOT_EQUAL'] as const;

// Client-chosen lease IDs for this file (the pair of servers is shared by its cases).
const LEASE_X = 7001;

/** Compare value fields per target, for a key at (create base+1, mod base+2, version 2, value "m", lease X). */
const TARGETS: Array<{ target: string; field: string; values: (s: Side) => Array<string | Buffer> }> = [
  { target: 'VERSION', field: 'version', values: () => ['1', '2', '3'] },
  { target: 'CREATE', field: 'create_revision', values: (s) => [s.rev(0), s.rev(1), s.rev(2)] },
  { target: 'MOD', field: 'mod_revision', values: (s) => [s.rev(1), s.rev(2), s.rev(3)] },
  { target: 'VALUE', field: 'value', values: () => [b('l'), b('m'), b('n')] },
  { target: 'LEASE', field: 'lease', values: () => [String(LEASE_X - 1), String(LEASE_X), String(LEASE_X + 1)] },
];

function cmp(s: Side, key: string, target: string, result: string, field: string, value: string | Buffer, extra: Msg = {}): Msg {
  return { key: s.k(key), target, result, [field]: value, ...extra };
}

/** A txn whose only interesting output is `succeeded` (both branches read the key). */
function probe(s: Side, compare: Msg[]): Promise<Msg> {
  return s.c.kv.Txn({
    compare,
    success: [{ request_range: { key: s.k('x'), count_only: true } }],
    failure: [],
  });
}

const cases: Case[] = [
  {
    name: 'compare matrix: every target x result',
    steps: [
      step('setup: lease X, x created at base+1, modified at base+2', (s) =>
        seq(
          () => s.c.lease.LeaseGrant({ ID: LEASE_X, TTL: 600 }),
          () => put(s, 'x', 'm'),
          () => put(s, 'x', 'm', { lease: LEASE_X }),
          () => get(s, 'x'),
        ),
      ),
      ...TARGETS.flatMap(({ target, field, values }) =>
        RESULTS.flatMap((result) =>
          [0, 1, 2].map((i) =>
            step(
              `${target} ${result} ${['lower', 'equal', 'higher'][i]}`,
              (s) => probe(s, [cmp(s, 'x', target, result, field, values(s)[i])]),
              // The key's field is compared against the given value: key > lower, key == equal, key < higher.
              { etcd: { succeeded: { EQUAL: i === 1, GREATER: i === 0, LESS: i === 2, NOT_EQUAL: i !== 1 }[result] } },
            ),
          ),
        ),
      ),
      step(
        'several compares: all must hold',
        (s) =>
          probe(s, [
            cmp(s, 'x', 'VERSION', 'EQUAL', 'version', '2'),
            cmp(s, 'x', 'VALUE', 'EQUAL', 'value', b('m')),
            cmp(s, 'x', 'MOD', 'GREATER', 'mod_revision', s.rev(5)),
          ]),
        { etcd: { succeeded: false } },
      ),
      step('revoke X', (s) => s.c.lease.LeaseRevoke({ ID: LEASE_X })),
    ],
  },
  {
    name: 'compares on a missing key (VALUE always fails)',
    steps: [
      ...TARGETS.flatMap(({ target, field }) =>
        RESULTS.map((result) =>
          step(`missing: ${target} ${result} zero`, (s) =>
            probe(s, [cmp(s, 'nope', target, result, field, field === 'value' ? b('') : '0')]),
          ),
        ),
      ),
      step('missing: VALUE NOT_EQUAL "x"', (s) => probe(s, [cmp(s, 'nope', 'VALUE', 'NOT_EQUAL', 'value', b('x'))]), {
        etcd: { succeeded: false },
      }),
      step('missing: VALUE LESS "z"', (s) => probe(s, [cmp(s, 'nope', 'VALUE', 'LESS', 'value', b('z'))])),
      step('missing: MOD LESS 1', (s) => probe(s, [cmp(s, 'nope', 'MOD', 'LESS', 'mod_revision', '1')])),
      step('deleted key: VERSION EQUAL 0', async (s) => {
        await put(s, 'gone', 'v');
        await s.c.kv.DeleteRange({ key: s.k('gone') });
        return probe(s, [cmp(s, 'gone', 'VERSION', 'EQUAL', 'version', '0')]);
      }),
      step('compare with unset target_union (compares as 0)', (s) => probe(s, [{ key: s.k('nope'), target: 'CREATE', result: 'EQUAL' }])),
    ],
  },
  {
    name: 'range_end compares',
    steps: [
      step('setup p/a v1, p/b v2, p/c v3', (s) =>
        seq(
          () => put(s, 'p/a', '1'),
          () => put(s, 'p/b', '1'),
          () => put(s, 'p/b', '2'),
          () => put(s, 'p/c', '1'),
          () => put(s, 'p/c', '2'),
          () => put(s, 'p/c', '3'),
        ),
      ),
      step('VERSION > 0 over p/ (all)', (s) => probe(s, [cmp(s, 'p/', 'VERSION', 'GREATER', 'version', '0', { range_end: s.end('p/') })]), {
        etcd: { succeeded: true },
      }),
      step(
        'VERSION = 2 over p/ (not all)',
        (s) => probe(s, [cmp(s, 'p/', 'VERSION', 'EQUAL', 'version', '2', { range_end: s.end('p/') })]),
        {
          etcd: { succeeded: false },
        },
      ),
      step('VERSION < 4 over p/', (s) => probe(s, [cmp(s, 'p/', 'VERSION', 'LESS', 'version', '4', { range_end: s.end('p/') })])),
      step('VERSION != 3 over [p/a, p/c)', (s) =>
        probe(s, [cmp(s, 'p/a', 'VERSION', 'NOT_EQUAL', 'version', '3', { range_end: s.k('p/c') })]),
      ),
      step('MOD < base+6 over p/', (s) => probe(s, [cmp(s, 'p/', 'MOD', 'LESS', 'mod_revision', s.rev(6), { range_end: s.end('p/') })])),
      step('CREATE > base over p/', (s) =>
        probe(s, [cmp(s, 'p/', 'CREATE', 'GREATER', 'create_revision', s.rev(0), { range_end: s.end('p/') })]),
      ),
      step('VALUE > "0" over p/', (s) => probe(s, [cmp(s, 'p/', 'VALUE', 'GREATER', 'value', b('0'), { range_end: s.end('p/') })])),
      step('VALUE = "1" over p/', (s) => probe(s, [cmp(s, 'p/', 'VALUE', 'EQUAL', 'value', b('1'), { range_end: s.end('p/') })])),
      step('empty range: VERSION = 0', (s) => probe(s, [cmp(s, 'q/', 'VERSION', 'EQUAL', 'version', '0', { range_end: s.end('q/') })])),
      step('empty range: VALUE = ""', (s) => probe(s, [cmp(s, 'q/', 'VALUE', 'EQUAL', 'value', b(''), { range_end: s.end('q/') })])),
      step('VERSION > 1 over [p/b, end of p/)', (s) =>
        probe(s, [cmp(s, 'p/b', 'VERSION', 'GREATER', 'version', '1', { range_end: s.end('p/') })]),
      ),
    ],
  },
  {
    name: 'multi-op, reads after writes, one revision',
    steps: [
      step('setup c, d', (s) =>
        seq(
          () => put(s, 'c', 'old'),
          () => put(s, 'd', 'old'),
        ),
      ),
      step(
        'txn: range, put a, put b, range [a,e), delete c prev_kv, range c, put d prev_kv, range d',
        (s) =>
          s.c.kv.Txn({
            compare: [],
            success: [
              { request_range: { key: s.k('a'), range_end: s.k('e') } },
              { request_put: { key: s.k('a'), value: b('1') } },
              { request_put: { key: s.k('b'), value: b('2'), prev_kv: true } },
              { request_range: { key: s.k('a'), range_end: s.k('e') } },
              { request_delete_range: { key: s.k('c'), prev_kv: true } },
              { request_range: { key: s.k('c') } },
              { request_put: { key: s.k('d'), value: b('new'), prev_kv: true } },
              { request_range: { key: s.k('d') } },
            ],
          }),
        { etcd: { succeeded: true, header: { revision: 'base+3' } } },
      ),
      step('all writes share one mod_revision', (s) => getAll(s)),
      step('history at base+2 (before the txn)', (s) => getAll(s, { revision: s.rev(2) })),
      step(
        'failure branch runs ops too',
        (s) =>
          s.c.kv.Txn({
            compare: [cmp(s, 'a', 'VALUE', 'EQUAL', 'value', b('nope'))],
            success: [{ request_put: { key: s.k('s'), value: b('1') } }],
            failure: [
              { request_put: { key: s.k('f1'), value: b('1') } },
              { request_put: { key: s.k('f2'), value: b('2') } },
              { request_range: { key: s.k('f'), range_end: s.end('f') } },
            ],
          }),
        { etcd: { succeeded: false, header: { revision: 'base+4' } } },
      ),
      step('delete range in txn + put of another key', (s) =>
        s.c.kv.Txn({
          success: [
            { request_delete_range: { key: s.k('f'), range_end: s.end('f'), prev_kv: true } },
            { request_put: { key: s.k('g'), value: b('g') } },
          ],
        }),
      ),
      step('final state', (s) => getAll(s)),
    ],
  },
  {
    name: 'nested txn',
    steps: [
      step('setup n=1', (s) => put(s, 'n', '1')),
      step('outer put o, nested txn on n (compares see pre-txn state), outer range', (s) =>
        s.c.kv.Txn({
          compare: [cmp(s, 'n', 'VALUE', 'EQUAL', 'value', b('1'))],
          success: [
            { request_put: { key: s.k('o'), value: b('outer') } },
            {
              request_txn: {
                compare: [cmp(s, 'o', 'VERSION', 'EQUAL', 'version', '0')],
                success: [{ request_put: { key: s.k('in-success'), value: b('y') } }, { request_range: { key: s.k('o') } }],
                failure: [{ request_put: { key: s.k('in-failure'), value: b('y') } }],
              },
            },
            { request_range: { key: s.k(''), range_end: s.end() } },
          ],
        }),
      ),
      step('state after nested txn', (s) => getAll(s)),
      step('nested txn in failure branch, nested failing', (s) =>
        s.c.kv.Txn({
          compare: [cmp(s, 'n', 'VALUE', 'EQUAL', 'value', b('nope'))],
          failure: [
            {
              request_txn: {
                compare: [cmp(s, 'n', 'VERSION', 'EQUAL', 'version', '9')],
                success: [{ request_put: { key: s.k('never'), value: b('x') } }],
                failure: [{ request_delete_range: { key: s.k('o'), prev_kv: true } }, { request_range: { key: s.k('o') } }],
              },
            },
          ],
        }),
      ),
      step('read-only nested txn', (s) =>
        s.c.kv.Txn({
          success: [{ request_txn: { success: [{ request_range: { key: s.k('n') } }] } }],
        }),
      ),
      step('doubly nested with writes', (s) =>
        s.c.kv.Txn({
          success: [
            {
              request_txn: {
                success: [
                  { request_put: { key: s.k('d1'), value: b('1') } },
                  { request_txn: { success: [{ request_put: { key: s.k('d2'), value: b('2') } }] } },
                ],
              },
            },
          ],
        }),
      ),
      step('final state', (s) => getAll(s)),
    ],
  },
  {
    name: 'read-only txns do not move the revision',
    steps: [
      step('setup', (s) => put(s, 'a', '1')),
      step('empty txn', (s) => s.c.kv.Txn({}), { etcd: { succeeded: true, responses: [], header: { revision: 'base+1' } } }),
      step('range-only txn', (s) => s.c.kv.Txn({ success: [{ request_range: { key: s.k('a') } }] }), {
        etcd: { header: { revision: 'base+1' } },
      }),
      step(
        'failed compare, no failure ops',
        (s) =>
          s.c.kv.Txn({
            compare: [cmp(s, 'a', 'VERSION', 'EQUAL', 'version', '5')],
            success: [{ request_put: { key: s.k('a'), value: b('2') } }],
          }),
        { etcd: { succeeded: false, responses: [], header: { revision: 'base+1' } } },
      ),
      step(
        'delete of a missing key in a txn',
        (s) =>
          s.c.kv.Txn({ success: [{ request_delete_range: { key: s.k('missing'), prev_kv: true } }, { request_range: { key: s.k('a') } }] }),
        { etcd: { header: { revision: 'base+1' } } },
      ),
      step('revision unchanged', (s) => get(s, 'a')),
      step('write txn: range before and after the put', (s) =>
        s.c.kv.Txn({
          success: [
            { request_range: { key: s.k('a') } },
            { request_put: { key: s.k('a'), value: b('2') } },
            { request_range: { key: s.k('a') } },
          ],
        }),
      ),
    ],
  },
  {
    name: 'kube-apiserver create / guarded update / guarded delete',
    steps: [
      step(
        'create (MOD == 0, no failure ops)',
        (s) =>
          s.c.kv.Txn({
            compare: [{ target: 'MOD', result: 'EQUAL', key: s.k('pods/ns/p'), mod_revision: 0 }],
            success: [{ request_put: { key: s.k('pods/ns/p'), value: b('k8s\0v1') } }],
          }),
        { etcd: { succeeded: true, header: { revision: 'base+1' } } },
      ),
      step(
        'create again: succeeded false, no responses',
        (s) =>
          s.c.kv.Txn({
            compare: [{ target: 'MOD', result: 'EQUAL', key: s.k('pods/ns/p'), mod_revision: 0 }],
            success: [{ request_put: { key: s.k('pods/ns/p'), value: b('k8s\0v1') } }],
          }),
        { etcd: { succeeded: false, responses: [] } },
      ),
      step(
        'guarded update with origRev base+1',
        (s) =>
          s.c.kv.Txn({
            compare: [{ target: 'MOD', result: 'EQUAL', key: s.k('pods/ns/p'), mod_revision: s.rev(1) }],
            success: [{ request_put: { key: s.k('pods/ns/p'), value: b('k8s\0v2') } }],
            failure: [{ request_range: { key: s.k('pods/ns/p') } }],
          }),
        { etcd: { succeeded: true, header: { revision: 'base+2' } } },
      ),
      step(
        'guarded update with stale origRev: failure range returns current kv',
        (s) =>
          s.c.kv.Txn({
            compare: [{ target: 'MOD', result: 'EQUAL', key: s.k('pods/ns/p'), mod_revision: s.rev(1) }],
            success: [{ request_put: { key: s.k('pods/ns/p'), value: b('k8s\0v3') } }],
            failure: [{ request_range: { key: s.k('pods/ns/p') } }],
          }),
        { etcd: { succeeded: false, responses: [{ response_range: { kvs: [{ mod_revision: 'base+2' }] } }] } },
      ),
      step('create-on-update (origRev 0) of a missing key', (s) =>
        s.c.kv.Txn({
          compare: [{ target: 'MOD', result: 'EQUAL', key: s.k('pods/ns/q'), mod_revision: 0 }],
          success: [{ request_put: { key: s.k('pods/ns/q'), value: b('k8s\0q') } }],
          failure: [{ request_range: { key: s.k('pods/ns/q') } }],
        }),
      ),
      step('guarded delete with stale rev', (s) =>
        s.c.kv.Txn({
          compare: [{ target: 'MOD', result: 'EQUAL', key: s.k('pods/ns/p'), mod_revision: s.rev(1) }],
          success: [{ request_delete_range: { key: s.k('pods/ns/p') } }],
          failure: [{ request_range: { key: s.k('pods/ns/p') } }],
        }),
      ),
      step(
        'guarded delete with current rev',
        (s) =>
          s.c.kv.Txn({
            compare: [{ target: 'MOD', result: 'EQUAL', key: s.k('pods/ns/p'), mod_revision: s.rev(2) }],
            success: [{ request_delete_range: { key: s.k('pods/ns/p') } }],
            failure: [{ request_range: { key: s.k('pods/ns/p') } }],
          }),
        { etcd: { succeeded: true, responses: [{ response_delete_range: { deleted: '1', prev_kvs: [] } }] } },
      ),
      step(
        'guarded update of a deleted key: failure range is empty',
        (s) =>
          s.c.kv.Txn({
            compare: [{ target: 'MOD', result: 'EQUAL', key: s.k('pods/ns/p'), mod_revision: s.rev(2) }],
            success: [{ request_put: { key: s.k('pods/ns/p'), value: b('x') } }],
            failure: [{ request_range: { key: s.k('pods/ns/p') } }],
          }),
        { etcd: { succeeded: false, responses: [{ response_range: { kvs: [], count: '0' } }] } },
      ),
      step('kube list: prefix with limit', (s) => s.c.kv.Range({ key: s.k('pods/'), range_end: s.end('pods/'), limit: 500 })),
      step('kube count', (s) => s.c.kv.Range({ key: s.k('pods/'), range_end: s.end('pods/'), count_only: true })),
    ],
  },
  {
    name: 'kube-apiserver compaction dance on compact_rev_key',
    fresh: true, // compact_rev_key has no prefix and its value embeds an absolute revision
    steps: [
      step('writes', (s) => seq(...[1, 2, 3, 4].map((i) => () => s.c.kv.Put({ key: b(`/registry/x/${i}`), value: b(`${i}`) })))),
      step(
        'first run: VERSION == 0, put "0"',
        (s) =>
          s.c.kv.Txn({
            compare: [{ target: 'VERSION', result: 'EQUAL', key: b('compact_rev_key'), version: 0 }],
            success: [{ request_put: { key: b('compact_rev_key'), value: b('0') } }],
            failure: [{ request_range: { key: b('compact_rev_key') } }],
          }),
        { etcd: { succeeded: true, header: { revision: '6' } } },
      ),
      step(
        'second run: VERSION == 1, put "6"',
        (s) =>
          s.c.kv.Txn({
            compare: [{ target: 'VERSION', result: 'EQUAL', key: b('compact_rev_key'), version: 1 }],
            success: [{ request_put: { key: b('compact_rev_key'), value: b('6') } }],
            failure: [{ request_range: { key: b('compact_rev_key') } }],
          }),
        { etcd: { succeeded: true, header: { revision: '7' } } },
      ),
      step('Compact{6}', (s) => s.c.kv.Compact({ revision: 6, physical: false })),
      step(
        'another apiserver with stale V=1 fails and adopts kvs[0]',
        (s) =>
          s.c.kv.Txn({
            compare: [{ target: 'VERSION', result: 'EQUAL', key: b('compact_rev_key'), version: 1 }],
            success: [{ request_put: { key: b('compact_rev_key'), value: b('7') } }],
            failure: [{ request_range: { key: b('compact_rev_key') } }],
          }),
        { etcd: { succeeded: false, responses: [{ response_range: { kvs: [{ version: '2', value: '6' }] } }] } },
      ),
      step('range below the compaction', (s) => s.c.kv.Range({ key: b('/registry/x/1'), revision: 5 }), {
        etcd: grpcError('OUT_OF_RANGE', 'etcdserver: mvcc: required revision has been compacted'),
      }),
      step('range at the compaction', (s) => s.c.kv.Range({ key: b('/registry/'), range_end: b('/registry0'), revision: 6 })),
      step('watch compact_rev_key from header.revision (no +1)', async (s) => {
        const r = await s.c.kv.Range({ key: b('compact_rev_key') });
        const w = s.watch();
        w.send({ create_request: { key: b('compact_rev_key'), start_revision: r.header.revision } });
        return w.next(2);
      }),
    ],
  },
];

diffSuite('txn', cases);
