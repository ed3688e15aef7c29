// Compaction: Compact then history reads, repeated/older/future compactions, watches from before
// the compaction. Compaction is global but safe on the shared servers (see harness.ts): each case
// compacts inside its own revision window and later cases only read at or above their own base.
import { b, diffSuite, get, getAll, grpcError, put, seq, step, type Case } from './harness';

const COMPACTED = grpcError('OUT_OF_RANGE', 'etcdserver: mvcc: required revision has been compacted');
const FUTURE = grpcError('OUT_OF_RANGE', 'etcdserver: mvcc: required revision is a future revision');

const cases: Case[] = [
  {
    name: 'compact then range below / at / above',
    steps: [
      step('writes: a x4, b, delete a', (s) =>
        seq(
          () => put(s, 'a', '1'), // +1
          () => put(s, 'a', '2'), // +2
          () => put(s, 'a', '3'), // +3
          () => put(s, 'b', '1'), // +4
          () => put(s, 'a', '4'), // +5
          () => s.c.kv.DeleteRange({ key: s.k('b') }), // +6
        ),
      ),
      step('compact base+4', (s) => s.c.kv.Compact({ revision: s.rev(4) }), { etcd: { header: { revision: 'base+6' } } }),
      step('range at base+3 (below)', (s) => getAll(s, { revision: s.rev(3) }), { etcd: COMPACTED }),
      step('range at base+1 (below)', (s) => get(s, 'a', { revision: s.rev(1) }), { etcd: COMPACTED }),
      step('range at base+4 (the compact revision)', (s) => getAll(s, { revision: s.rev(4) })),
      step('range at base+5', (s) => getAll(s, { revision: s.rev(5) })),
      step('range at base+6', (s) => getAll(s, { revision: s.rev(6) })),
      step('range current', (s) => getAll(s)),
      step('range at base+7 (future)', (s) => getAll(s, { revision: s.rev(7) }), { etcd: FUTURE }),
      step('count_only at base+4', (s) => getAll(s, { revision: s.rev(4), count_only: true })),
      step('txn with a range below the compaction', (s) =>
        s.c.kv.Txn({ success: [{ request_range: { key: s.k('a'), revision: s.rev(2) } }] }),
      ),
      step('txn with a range at the compaction', (s) =>
        s.c.kv.Txn({ success: [{ request_range: { key: s.k('a'), revision: s.rev(4) } }] }),
      ),
      step('writes keep working', (s) => put(s, 'c', '1')),
    ],
  },
  {
    name: 'compact again (same, older), future, current',
    steps: [
      step('writes', (s) => seq(...['1', '2', '3', '4'].map((v) => () => put(s, 'a', v)))),
      step('compact base+2', (s) => s.c.kv.Compact({ revision: s.rev(2) })),
      step('compact base+2 again', (s) => s.c.kv.Compact({ revision: s.rev(2) }), { etcd: COMPACTED }),
      step('compact base+1 (older)', (s) => s.c.kv.Compact({ revision: s.rev(1) }), { etcd: COMPACTED }),
      step('compact base+5 (future)', (s) => s.c.kv.Compact({ revision: s.rev(5) }), { etcd: FUTURE }),
      step('compact base+4 (current), physical', (s) => s.c.kv.Compact({ revision: s.rev(4), physical: true })),
      step('range at base+4 after compacting at it', (s) => getAll(s, { revision: s.rev(4) })),
      step('range at base+3', (s) => getAll(s, { revision: s.rev(3) }), { etcd: COMPACTED }),
      step('put, then compact base+5 now exists', (s) =>
        seq(
          () => put(s, 'a', '5'),
          () => s.c.kv.Compact({ revision: s.rev(5) }),
        ),
      ),
    ],
  },
  {
    name: 'watch from before the compaction',
    steps: [
      step('writes', (s) =>
        seq(
          () => put(s, 'a', '1'), // +1
          () => put(s, 'b', '1'), // +2
          () => put(s, 'a', '2'), // +3
          () => s.c.kv.DeleteRange({ key: s.k('b') }), // +4
          () => put(s, 'c', '1'), // +5
        ),
      ),
      step('compact base+3', (s) => s.c.kv.Compact({ revision: s.rev(3) })),
      step(
        'watch from base+2: created, then canceled with compact_revision',
        (s) => {
          s.watch('w1').send({ create_request: { key: s.k(''), range_end: s.end(), start_revision: s.rev(2) } });
          return s.watch('w1').next(2);
        },
        {
          etcd: [{ created: true }, { canceled: true, compact_revision: 'base+3', header: { revision: '0' } }],
        },
      ),
      step('watch from base+3 with prev_kv: history kept at the compact revision', (s) => {
        s.watch('w2').send({ create_request: { key: s.k(''), range_end: s.end(), start_revision: s.rev(3), prev_kv: true } });
        return s.watch('w2').next(2);
      }),
      step('watch key b from base+4 (its delete survives compaction)', (s) => {
        s.watch('w3').send({ create_request: { key: s.k('b'), start_revision: s.rev(4), prev_kv: true } });
        return s.watch('w3').next(2);
      }),
      step(
        'watch from 1 (far below)',
        (s) => {
          s.watch('w4').send({ create_request: { key: b('anything'), start_revision: 1 } });
          return s.watch('w4').next(2);
        },
        { etcd: [{ created: true }, { canceled: true, compact_revision: 'base+3' }] },
      ),
    ],
  },
  {
    name: 'fresh store: compact revision 0 / 1 and absolute revisions',
    fresh: true,
    steps: [
      step('compact 0 on an empty store', (s) => s.c.kv.Compact({ revision: 0 })),
      step('compact 0 again', (s) => s.c.kv.Compact({ revision: 0 })),
      step('compact 1 on an empty store', (s) => s.c.kv.Compact({ revision: 1 })),
      step('compact 1 again', (s) => s.c.kv.Compact({ revision: 1 })),
      step('compact 0 after compact 1', (s) => s.c.kv.Compact({ revision: 0 })),
      step('range at 1', (s) => s.c.kv.Range({ key: b('\0'), range_end: b('\0'), revision: 1 })),
      step('writes', (s) => seq(...[1, 2, 3].map((i) => () => s.c.kv.Put({ key: b('k'), value: b(String(i)) })))),
      step('compact 3', (s) => s.c.kv.Compact({ revision: 3 }), { etcd: { header: { revision: '4' } } }),
      step('range at 2', (s) => s.c.kv.Range({ key: b('k'), revision: 2 }), { etcd: COMPACTED }),
      step('range at 3', (s) => s.c.kv.Range({ key: b('k'), revision: 3 })),
      step('compact 1 after compact 3', (s) => s.c.kv.Compact({ revision: 1 }), { etcd: COMPACTED }),
      step('watch from 2', (s) => {
        s.watch().send({ create_request: { key: b('k'), start_revision: 2 } });
        return s.watch().next(2);
      }),
    ],
  },
];

diffSuite('compaction', cases);
