// Leases: grant/revoke/time-to-live/keep-alive/list and expiry. Client-chosen IDs in this file are
// 8000-8999 and unique per case (the servers are shared); server-assigned IDs are aliased.
import { note } from '../helpers/notice';
import { sleep } from '../helpers/ports';
import {
  b,
  del,
  diffSuite,
  get,
  getAll,
  grpcError,
  keepAliveOnce,
  put,
  seq,
  sortBy,
  step,
  VERBOSE,
  type Case,
  type Msg,
  type Side,
} from './harness';

/** Grants with a server-assigned ID and aliases it (when the grant succeeds). */
async function grantAs(s: Side, name: string, TTL: number): Promise<Msg> {
  const r = await s.c.lease.LeaseGrant({ TTL });
  s.alias(name, r.ID);
  return r;
}

const sortKeys = (v: unknown) => {
  const m = v as Msg;
  return Array.isArray(m?.keys) ? { ...m, keys: sortBy(m.keys as string[], (k) => k) } : v;
};

const cases: Case[] = [
  {
    name: 'grant TTL 60 / 1 / 0 / -5 with server-assigned ids',
    steps: [
      step('grant TTL 60', (s) => grantAs(s, 'A', 60), { etcd: { TTL: '60', ID: '<lease A>', error: '' } }),
      step('grant TTL 1 (below the minimum)', (s) => grantAs(s, 'B', 1)),
      step('grant TTL 0', (s) => grantAs(s, 'C', 0)),
      step('grant TTL -5', (s) => grantAs(s, 'D', -5)),
      ...['A', 'B', 'C', 'D'].map((n) =>
        step(`timetolive ${n}`, (s) => s.c.lease.LeaseTimeToLive({ ID: s.id(n) }), { tolerance: { TTL: 1 } }),
      ),
      step('the revision did not move', (s) => get(s, 'x'), { etcd: { header: { revision: 'base+0' } } }),
      ...['A', 'B', 'C', 'D'].map((n) => step(`revoke ${n}`, (s) => s.c.lease.LeaseRevoke({ ID: s.id(n) }))),
    ],
  },
  {
    name: 'grant with a client-chosen ID, duplicate ID',
    steps: [
      step('grant ID 8001 TTL 30', (s) => s.c.lease.LeaseGrant({ ID: 8001, TTL: 30 }), { etcd: { ID: '8001', TTL: '30' } }),
      step('grant ID 8001 again', (s) => s.c.lease.LeaseGrant({ ID: 8001, TTL: 60 }), {
        etcd: grpcError('FAILED_PRECONDITION', 'etcdserver: lease already exists'),
      }),
      step('timetolive 8001', (s) => s.c.lease.LeaseTimeToLive({ ID: 8001, keys: true }), { tolerance: { TTL: 1 } }),
      step('revoke 8001', (s) => s.c.lease.LeaseRevoke({ ID: 8001 })),
      step('grant ID 8001 after revoke', (s) => s.c.lease.LeaseGrant({ ID: 8001, TTL: 30 })),
      step('revoke 8001 again', (s) => s.c.lease.LeaseRevoke({ ID: 8001 })),
    ],
  },
  {
    name: 'revoke deletes attached keys at one revision; watch sees DELETE with prev_kv',
    steps: [
      step('grant 8002, put a and b with it, c without', (s) =>
        seq(
          () => s.c.lease.LeaseGrant({ ID: 8002, TTL: 60 }),
          () => put(s, 'a', '1', { lease: 8002 }),
          () => put(s, 'b', '1', { lease: 8002 }),
          () => put(s, 'c', '1'),
        ),
      ),
      step('watch prefix with prev_kv', (s) => {
        s.watch().send({ create_request: { key: s.k(''), range_end: s.end(), prev_kv: true } });
        return s.watch().next(1);
      }),
      step('revoke 8002', async (s) => ({ revoke: await s.c.lease.LeaseRevoke({ ID: 8002 }), watch: await s.watch().next(1) }), {
        etcd: { watch: [{ events: [{ type: 'DELETE' }, { type: 'DELETE' }], header: { revision: 'base+4' } }] },
      }),
      step('only c is left', (s) => getAll(s)),
      step('timetolive 8002 after revoke', (s) => s.c.lease.LeaseTimeToLive({ ID: 8002 }), { etcd: { TTL: '-1' } }),
      step('put with the revoked lease', (s) => put(s, 'a', '2', { lease: 8002 }), {
        etcd: grpcError('NOT_FOUND', 'etcdserver: requested lease not found'),
      }),
      step('revoke of a lease whose keys were already deleted', async (s) => {
        await s.c.lease.LeaseGrant({ ID: 8012, TTL: 60 });
        await put(s, 'd', '1', { lease: 8012 });
        await del(s, 'd');
        const r = await s.c.lease.LeaseRevoke({ ID: 8012 });
        return { revoke: r, watch: await s.watch().next(2) };
      }),
    ],
  },
  {
    name: 'unknown leases',
    steps: [
      step('revoke unknown', (s) => s.c.lease.LeaseRevoke({ ID: 8999 }), {
        etcd: grpcError('NOT_FOUND', 'etcdserver: requested lease not found'),
      }),
      step('timetolive unknown', (s) => s.c.lease.LeaseTimeToLive({ ID: 8999, keys: true }), {
        etcd: { ID: '8999', TTL: '-1', grantedTTL: '0', keys: [] },
      }),
      step('keepalive unknown', (s) => keepAliveOnce(s.c, '8999'), { etcd: { ID: '8999', TTL: '0' } }),
      step('put with unknown lease', (s) => put(s, 'a', '1', { lease: 8999 }), {
        etcd: grpcError('NOT_FOUND', 'etcdserver: requested lease not found'),
      }),
      step('txn put with unknown lease', (s) => s.c.kv.Txn({ success: [{ request_put: { key: s.k('a'), value: b('1'), lease: 8999 } }] })),
      step('txn put with unknown lease in the branch not taken', (s) =>
        s.c.kv.Txn({
          compare: [{ key: s.k('a'), target: 'VERSION', result: 'EQUAL', version: 0 }],
          success: [{ request_put: { key: s.k('a'), value: b('1') } }],
          failure: [{ request_put: { key: s.k('a'), value: b('1'), lease: 8999 } }],
        }),
      ),
      step('revision', (s) => getAll(s)),
    ],
  },
  {
    name: 'timetolive with keys',
    steps: [
      step('grant 8003, attach three keys', (s) =>
        seq(
          () => s.c.lease.LeaseGrant({ ID: 8003, TTL: 100 }),
          () => put(s, 'k2', 'v', { lease: 8003 }),
          () => put(s, 'k1', 'v', { lease: 8003 }),
          () => put(s, Buffer.from([0xff]), 'v', { lease: 8003 }),
        ),
      ),
      // etcd builds the key list from a Go map: the order is not defined, so sort it.
      step('timetolive keys=true', (s) => s.c.lease.LeaseTimeToLive({ ID: 8003, keys: true }), {
        tolerance: { TTL: 1 },
        post: sortKeys,
      }),
      step('timetolive keys=false', (s) => s.c.lease.LeaseTimeToLive({ ID: 8003 }), { tolerance: { TTL: 1 } }),
      step('move k1 to no lease, delete k2', (s) =>
        seq(
          () => put(s, 'k1', 'v2'),
          () => del(s, 'k2'),
        ),
      ),
      step('timetolive keys=true after detach/delete', (s) => s.c.lease.LeaseTimeToLive({ ID: 8003, keys: true }), {
        tolerance: { TTL: 1 },
        post: sortKeys,
      }),
      step('revoke 8003', (s) => s.c.lease.LeaseRevoke({ ID: 8003 })),
      step('after revoke', (s) => getAll(s)),
    ],
  },
  {
    name: 'keepalive',
    steps: [
      step('grant 8004 TTL 30', (s) => s.c.lease.LeaseGrant({ ID: 8004, TTL: 30 })),
      step('keepalive', (s) => keepAliveOnce(s.c, '8004'), { etcd: { ID: '8004', TTL: '30' } }),
      step('keepalive does not create a revision', (s) => get(s, 'a'), { etcd: { header: { revision: 'base+0' } } }),
      step('timetolive after keepalive', (s) => s.c.lease.LeaseTimeToLive({ ID: 8004 }), { tolerance: { TTL: 1 } }),
      step('revoke 8004', (s) => s.c.lease.LeaseRevoke({ ID: 8004 })),
      step('keepalive after revoke', (s) => keepAliveOnce(s.c, '8004'), { etcd: { TTL: '0' } }),
    ],
  },
  {
    name: 'leases list',
    fresh: true, // LeaseLeases lists every lease on the server
    steps: [
      step('empty list', (s) => s.c.lease.LeaseLeases({}), { etcd: { leases: [] } }),
      step('grant 10, 20 and a server-assigned one', async (s) =>
        seq(
          () => s.c.lease.LeaseGrant({ ID: 20, TTL: 60 }),
          () => s.c.lease.LeaseGrant({ ID: 10, TTL: 60 }),
          () => grantAs(s, 'S', 60),
        ),
      ),
      // etcd 3.4 returns the leases in Go map order; sort them.
      step('list', (s) => s.c.lease.LeaseLeases({}), {
        post: (v) => ({ ...(v as Msg), leases: sortBy((v as Msg).leases as Msg[], (l) => String(l.ID)) }),
        etcd: { leases: [{ ID: '10' }, { ID: '20' }, { ID: '<lease S>' }] },
      }),
      step('revoke 10', (s) => s.c.lease.LeaseRevoke({ ID: 10 })),
      step('list after revoke', (s) => s.c.lease.LeaseLeases({}), {
        post: (v) => ({ ...(v as Msg), leases: sortBy((v as Msg).leases as Msg[], (l) => String(l.ID)) }),
      }),
    ],
  },
  {
    name: 'short-TTL expiry deletes keys (TTL 1 is raised to the minimum)',
    timeoutMs: 30_000,
    steps: [
      step('grant 8005 TTL 1', (s) => s.c.lease.LeaseGrant({ ID: 8005, TTL: 1 })),
      step('put a, b with 8005; watch with prev_kv', async (s) => {
        const writes = await seq(
          () => put(s, 'a', '1', { lease: 8005 }),
          () => put(s, 'b', '1', { lease: 8005 }),
        );
        s.watch().send({ create_request: { key: s.k(''), range_end: s.end(), prev_kv: true } });
        return { writes, created: await s.watch().next(1) };
      }),
      step('timetolive right after grant', (s) => s.c.lease.LeaseTimeToLive({ ID: 8005, keys: true }), {
        tolerance: { TTL: 1 },
        post: sortKeys,
      }),
      step(
        'wait for expiry: one response, two DELETE events',
        async (s) => {
          const t0 = Date.now();
          const ev = await s.watch().next(1, 10_000);
          if (VERBOSE) note(`[${s.name}] lease 8005 expiry seen after ${Date.now() - t0} ms`);
          return ev;
        },
        {
          etcd: [{ events: [{ type: 'DELETE' }, { type: 'DELETE' }], header: { revision: 'base+3' } }],
        },
      ),
      step('keys are gone', (s) => getAll(s)),
      step('timetolive after expiry', (s) => s.c.lease.LeaseTimeToLive({ ID: 8005 }), { etcd: { TTL: '-1' } }),
      step('revoke after expiry', (s) => s.c.lease.LeaseRevoke({ ID: 8005 })),
      step('a lease without keys expires without a revision', async (s) => {
        await s.c.lease.LeaseGrant({ ID: 8006, TTL: 2 });
        await sleep(3500);
        return { ttl: await s.c.lease.LeaseTimeToLive({ ID: 8006 }), range: await getAll(s) };
      }),
    ],
  },
];

diffSuite('lease', cases);
