// Watch: creates, ids, replay, filters, cancel, progress, compaction. Each step collects a fixed
// number of responses; the harness then checks that no side got extra, unconsumed responses.
import * as grpc from '@grpc/grpc-js';
import { b, del, diffSuite, getAll, put, seq, step, watchOrder, type Case, type Msg, type Side } from './harness';

/** A create_request on the named stream. */
function create(s: Side, stream: string, req: Msg): void {
  s.watch(stream).send({ create_request: req });
}

/** Runs a write, then collects n responses from a stream (ordered by revision, then watch_id). */
async function writeThenRead(s: Side, stream: string, n: number, write: () => Promise<Msg>): Promise<Msg> {
  const w = await write();
  return { write: w, watch: watchOrder(await s.watch(stream).next(n)) };
}

const cases: Case[] = [
  {
    name: 'several watches on one stream: created in order, ids from 0',
    steps: [
      step(
        'create 3 watches without waiting',
        (s) => {
          create(s, 'w', { key: s.k('a') });
          create(s, 'w', { key: s.k(''), range_end: s.end() });
          create(s, 'w', { key: s.k('a'), range_end: s.k('c') });
          return s.watch('w').next(3);
        },
        {
          etcd: [
            { created: true, watch_id: '0', header: { revision: 'base+0' } },
            { created: true, watch_id: '1' },
            { created: true, watch_id: '2' },
          ],
        },
      ),
      step('put a: three watchers', (s) => writeThenRead(s, 'w', 3, () => put(s, 'a', '1'))),
      step('put b: two watchers', (s) => writeThenRead(s, 'w', 2, () => put(s, 'b', '1'))),
      step('put z: one watcher', (s) => writeThenRead(s, 'w', 1, () => put(s, 'z', '1'))),
      step('update a: events carry version 2', (s) => writeThenRead(s, 'w', 3, () => put(s, 'a', '2'))),
    ],
  },
  {
    name: 'client-chosen watch ids and duplicates',
    steps: [
      step(
        'create watch_id 7',
        (s) => {
          create(s, 'w', { key: s.k('a'), watch_id: 7 });
          return s.watch('w').next(1);
        },
        { etcd: [{ created: true, watch_id: '7' }] },
      ),
      step('create with watch_id 0: server assigns', (s) => {
        create(s, 'w', { key: s.k('a') });
        return s.watch('w').next(1);
      }),
      step('create with watch_id 0 again', (s) => {
        create(s, 'w', { key: s.k('a') });
        return s.watch('w').next(1);
      }),
      step('duplicate client id 7', (s) => {
        create(s, 'w', { key: s.k('a'), watch_id: 7 });
        return s.watch('w').next(1);
      }),
      step('duplicate of a server-assigned id (1)', (s) => {
        create(s, 'w', { key: s.k('a'), watch_id: 1 });
        return s.watch('w').next(1);
      }),
      step('next server-assigned id', (s) => {
        create(s, 'w', { key: s.k('a') });
        return s.watch('w').next(1);
      }),
      step('put a reaches the live watches', (s) => writeThenRead(s, 'w', 4, () => put(s, 'a', 'v'))),
    ],
  },
  {
    name: 'start_revision replay from history',
    steps: [
      step('writes', (s) =>
        seq(
          () => put(s, 'a', '1'), // +1
          () => put(s, 'a', '2'), // +2
          () => put(s, 'b', '1'), // +3
          () => del(s, 'a'), // +4
          () =>
            s.c.kv.Txn({
              success: [{ request_put: { key: s.k('c'), value: b('1') } }, { request_put: { key: s.k('d'), value: b('1') } }],
            }), // +5
        ),
      ),
      step('prefix from base+1 with prev_kv', (s) => {
        create(s, 'w1', { key: s.k(''), range_end: s.end(), start_revision: s.rev(1), prev_kv: true });
        return s.watch('w1').next(2);
      }),
      step('prefix from base+3 without prev_kv', (s) => {
        create(s, 'w2', { key: s.k(''), range_end: s.end(), start_revision: s.rev(3) });
        return s.watch('w2').next(2);
      }),
      step('key a from base+2 with prev_kv', (s) => {
        create(s, 'w3', { key: s.k('a'), start_revision: s.rev(2), prev_kv: true });
        return s.watch('w3').next(2);
      }),
      step('from base+6 (the next revision): created only', (s) => {
        create(s, 'w4', { key: s.k(''), range_end: s.end(), start_revision: s.rev(6), prev_kv: true });
        return s.watch('w4').next(1);
      }),
      step('from base+7 (future)', (s) => {
        create(s, 'w5', { key: s.k(''), range_end: s.end(), start_revision: s.rev(7) });
        return s.watch('w5').next(1);
      }),
      step('put c at base+6: replayed streams go live', async (s) => {
        const w = await put(s, 'c', '2');
        return {
          write: w,
          w1: await s.watch('w1').next(1),
          w2: await s.watch('w2').next(1),
          w4: await s.watch('w4').next(1),
        };
      }),
      step('put e at base+7: the future watch starts', async (s) => {
        const w = await put(s, 'e', '1');
        return {
          write: w,
          w1: await s.watch('w1').next(1),
          w2: await s.watch('w2').next(1),
          w4: await s.watch('w4').next(1),
          w5: await s.watch('w5').next(1),
        };
      }),
      step('from-key watch (range_end "\\0") from base+5', (s) => {
        create(s, 'w6', { key: s.k('c'), range_end: b('\0'), start_revision: s.rev(5) });
        return s.watch('w6').next(2);
      }),
    ],
  },
  {
    name: 'prev_kv and NOPUT / NODELETE filters',
    steps: [
      step('setup a', (s) => put(s, 'a', '0')),
      step('create four watches on separate streams', async (s) => {
        create(s, 'prev', { key: s.k(''), range_end: s.end(), prev_kv: true });
        create(s, 'noput', { key: s.k(''), range_end: s.end(), filters: ['NOPUT'], prev_kv: true });
        create(s, 'nodel', { key: s.k(''), range_end: s.end(), filters: ['NODELETE'] });
        create(s, 'none', { key: s.k(''), range_end: s.end(), filters: ['NOPUT', 'NODELETE'] });
        return {
          prev: await s.watch('prev').next(1),
          noput: await s.watch('noput').next(1),
          nodel: await s.watch('nodel').next(1),
          none: await s.watch('none').next(1),
        };
      }),
      step('put a, put a, delete a, put b, txn delete b + put c', async (s) => {
        const writes = await seq(
          () => put(s, 'a', '1'),
          () => put(s, 'a', '2'),
          () => del(s, 'a'),
          () => put(s, 'b', '1'),
          () =>
            s.c.kv.Txn({
              success: [{ request_delete_range: { key: s.k('b') } }, { request_put: { key: s.k('c'), value: b('1') } }],
            }),
        );
        return {
          writes,
          prev: await s.watch('prev').next(5),
          noput: await s.watch('noput').next(2),
          nodel: await s.watch('nodel').next(4),
        };
      }),
    ],
  },
  {
    name: 'cancel',
    steps: [
      step('create two watches on key a', (s) => {
        create(s, 'w', { key: s.k('a') });
        create(s, 'w', { key: s.k('a'), prev_kv: true });
        return s.watch('w').next(2);
      }),
      step(
        'cancel watch 0',
        (s) => {
          s.watch('w').send({ cancel_request: { watch_id: 0 } });
          return s.watch('w').next(1);
        },
        { etcd: [{ canceled: true, watch_id: '0' }] },
      ),
      step('put a: only watch 1 sees it', (s) => writeThenRead(s, 'w', 1, () => put(s, 'a', '1'))),
      step('cancel an unknown id (42), then put a', (s) => {
        s.watch('w').send({ cancel_request: { watch_id: 42 } });
        return writeThenRead(s, 'w', 1, () => put(s, 'a', '2'));
      }),
      step('cancel watch 1 twice', async (s) => {
        s.watch('w').send({ cancel_request: { watch_id: 1 } });
        const first = await s.watch('w').next(1);
        s.watch('w').send({ cancel_request: { watch_id: 1 } });
        const w = await put(s, 'a', '3');
        return { first, write: w };
      }),
      step('a new watch after cancels gets id 2', (s) => {
        create(s, 'w', { key: s.k('a') });
        return s.watch('w').next(1);
      }),
    ],
  },
  {
    name: 'progress_request (shape only)',
    steps: [
      step('create watch, put', async (s) => {
        create(s, 'w', { key: s.k(''), range_end: s.end() });
        const created = await s.watch('w').next(1);
        return { created, ...(await writeThenRead(s, 'w', 1, () => put(s, 'a', '1'))) };
      }),
      step(
        'progress_request',
        (s) => {
          s.watch('w').send({ progress_request: {} });
          return s.watch('w').next(1);
        },
        {
          // etcd 3.4 answers at once; 3.5 answers only once every watcher on the stream is synced, and
          // the revision it reports is "at least the last write". Compare only the shape.
          ignore: ['*.header.revision'],
          check: (v: Msg[], s) => {
            if (v[0].watch_id !== '-1' || v[0].events.length !== 0 || v[0].created || v[0].canceled) {
              throw new Error(`[${s.name}] progress response shape: ${JSON.stringify(v)}`);
            }
          },
          etcd: [{ watch_id: '-1', events: [], created: false, canceled: false, compact_revision: '0' }],
        },
      ),
      step('stream still delivers events', (s) => writeThenRead(s, 'w', 1, () => put(s, 'b', '1'))),
    ],
  },
  {
    name: 'compacted start_revision: created, then canceled with compact_revision',
    steps: [
      step('writes', (s) => seq(...['1', '2', '3', '4'].map((v) => () => put(s, 'a', v)))),
      step('compact at base+3', (s) => s.c.kv.Compact({ revision: s.rev(3) })),
      step(
        'watch from base+1',
        (s) => {
          create(s, 'w1', { key: s.k(''), range_end: s.end(), start_revision: s.rev(1), prev_kv: true });
          return s.watch('w1').next(2);
        },
        {
          etcd: [
            { created: true, canceled: false, watch_id: '0' },
            { created: false, canceled: true, watch_id: '0', compact_revision: 'base+3', events: [] },
          ],
        },
      ),
      step('watch from base+3 (= compact revision) replays', (s) => {
        create(s, 'w2', { key: s.k(''), range_end: s.end(), start_revision: s.rev(3), prev_kv: true });
        return s.watch('w2').next(2);
      }),
      step('second watch on the compacted stream still works', (s) => {
        create(s, 'w1', { key: s.k(''), range_end: s.end(), start_revision: s.rev(4) });
        return s.watch('w1').next(2);
      }),
    ],
  },
  {
    name: 'one txn touching two watchers',
    steps: [
      step('create: key a, key b, prefix', (s) => {
        create(s, 'w', { key: s.k('a'), prev_kv: true });
        create(s, 'w', { key: s.k('b') });
        create(s, 'w', { key: s.k(''), range_end: s.end() });
        return s.watch('w').next(3);
      }),
      step('txn put a, put b', (s) =>
        writeThenRead(s, 'w', 3, () =>
          s.c.kv.Txn({
            success: [{ request_put: { key: s.k('a'), value: b('1') } }, { request_put: { key: s.k('b'), value: b('1') } }],
          }),
        ),
      ),
      step('txn put b then a: events in op (sub-revision) order, not key order', (s) =>
        writeThenRead(s, 'w', 3, () =>
          s.c.kv.Txn({
            success: [{ request_put: { key: s.k('b'), value: b('0') } }, { request_put: { key: s.k('a'), value: b('0') } }],
          }),
        ),
      ),
      step('txn delete a, put b', (s) =>
        writeThenRead(s, 'w', 3, () =>
          s.c.kv.Txn({
            success: [{ request_delete_range: { key: s.k('a') } }, { request_put: { key: s.k('b'), value: b('2') } }],
          }),
        ),
      ),
    ],
  },
  {
    name: 'delete range: one response, several DELETE events',
    steps: [
      step('setup', (s) => seq(...['a', 'b', 'c'].map((k) => () => put(s, k, k)))),
      step('watch prefix with prev_kv', (s) => {
        create(s, 'w', { key: s.k(''), range_end: s.end(), prev_kv: true });
        return s.watch('w').next(1);
      }),
      step('delete prefix', (s) => writeThenRead(s, 'w', 1, () => del(s, '', { range_end: s.end() }))),
      step('delete missing: no event; then put', (s) =>
        writeThenRead(s, 'w', 1, async () => {
          await del(s, 'zz');
          return put(s, 'x', '1');
        }),
      ),
    ],
  },
  {
    name: 'kube-apiserver watch: hasleader metadata, start rev+1, prev_kv, progress_notify',
    steps: [
      step('list then watch from header.revision + 1', async (s) => {
        await put(s, 'pods/p1', 'v1');
        const list = await getAll(s, { limit: 10000 });
        const md = new grpc.Metadata();
        md.set('hasleader', 'true');
        s.watch('w', md).send({
          create_request: {
            key: s.k('pods/'),
            range_end: s.end('pods/'),
            start_revision: String(Number(list.header.revision) + 1),
            prev_kv: true,
            progress_notify: true,
          },
        });
        return { list, created: await s.watch('w').next(1) };
      }),
      step('create, update, delete', async (s) => {
        const writes = await seq(
          () => put(s, 'pods/p2', 'v1'),
          () => put(s, 'pods/p1', 'v2'),
          () => del(s, 'pods/p2'),
        );
        return { writes, events: await s.watch('w').next(3) };
      }),
    ],
  },
];

diffSuite('watch', cases);
