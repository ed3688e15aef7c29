// etcd's v3lock and v3election services, compared call by call with etcd: errors (etcd passes its
// client's errors on as Unknown), a lock queue, a waiter giving up, a holder's lease expiring, and an
// election with Proclaim, Resign and Observe. Lease IDs are server-assigned and aliased; the lease
// part of an owner key (`<name>/<lease hex>`) is shown by its alias as well.
import { afterAll } from 'vitest';
import { createConcurrencyClient, type ConcurrencyClient, type PendingCall } from '../helpers/concurrency-client';
import { waitFor } from '../helpers/ports';
import { diffSuite, grpcError, step, type Case, type Msg, type Side } from './harness';

const clients = new Map<Side, ConcurrencyClient>();
afterAll(() => {
  for (const c of clients.values()) c.close();
});

function cc(s: Side): ConcurrencyClient {
  let c = clients.get(s);
  if (!c) {
    c = createConcurrencyClient(s.url.replace(/^http:\/\//, ''));
    clients.set(s, c);
  }
  return c;
}

async function grantAs(s: Side, name: string, TTL: number): Promise<Msg> {
  const r = await s.c.lease.LeaseGrant({ TTL });
  s.alias(name, r.ID);
  return r;
}

/** Bytes as text with every aliased lease's hex shown by name; LeaderKey.rev relative to the case base. */
function shown(s: Side, v: unknown): unknown {
  if (Buffer.isBuffer(v) || v instanceof Uint8Array) {
    let t = Buffer.from(v).toString('utf8');
    for (const [id, name] of s.idToAlias) t = t.split(BigInt(id).toString(16)).join(`<lease ${name}>`);
    return t;
  }
  if (Array.isArray(v)) return v.map((x) => shown(s, x));
  if (!v || typeof v !== 'object') return v;
  return Object.fromEntries(
    Object.entries(v as Msg).map(([k, x]) => [k, k === 'rev' && typeof x === 'string' ? `base+${Number(x) - s.base}` : shown(s, x)]),
  );
}

const lock = (s: Side, req: Msg) =>
  cc(s)
    .lock('Lock', req)
    .done.then((r) => shown(s, r));
const unlock = (s: Side, key: Buffer | string) =>
  cc(s)
    .lock('Unlock', { key })
    .done.then((r) => shown(s, r));
const elect = (s: Side, m: 'Campaign' | 'Proclaim' | 'Leader' | 'Resign', req: Msg) =>
  cc(s)
    .election(m, req)
    .done.then((r) => shown(s, r));

/** The owner keys under a lock or election name, oldest first. */
async function queue(s: Side, name: string): Promise<Msg> {
  const r = await s.c.kv.Range({ key: s.k(`${name}/`), range_end: s.end(`${name}/`), sort_target: 'CREATE', sort_order: 'ASCEND' });
  return shown(s, { count: r.count, keys: r.kvs.map((kv: Msg) => kv.key) }) as Msg;
}

/** Starts a call that waits, and returns once its key is queued. */
async function startWaiting(s: Side, name: string, call: PendingCall, queued: number): Promise<Msg> {
  s.set(`${name}-pending`, call);
  call.done.catch(() => undefined);
  await waitFor(async () => Number((await queue(s, name)).count) === queued, 10_000, 'the waiter queued');
  return queue(s, name);
}
const pending = (s: Side, name: string) => s.get<PendingCall>(`${name}-pending`);

const cases: Case[] = [
  {
    name: 'lock errors, a queue and lease 0',
    steps: [
      step('lock with an unknown lease', (s) => lock(s, { name: s.k('l'), lease: '7777' }), {
        etcd: grpcError('UNKNOWN', 'etcdserver: requested lease not found'),
      }),
      step('unlock without a key', (s) => unlock(s, ''), { etcd: grpcError('UNKNOWN', 'etcdserver: key is not provided') }),
      step('unlock a key nobody holds', (s) => unlock(s, s.k('l/none'))),
      step('grant A and B', async (s) => [await grantAs(s, 'A', 30), await grantAs(s, 'B', 30)]),
      step('A locks', async (s) => {
        const r = (await lock(s, { name: s.k('l'), lease: s.id('A') })) as Msg;
        s.set('a', r);
        return r;
      }),
      step('A locks again: the same acquisition', (s) => lock(s, { name: s.k('l'), lease: s.id('A') })),
      step('B waits behind A', (s) => startWaiting(s, 'l', cc(s).lock('Lock', { name: s.k('l'), lease: s.id('B') }), 2)),
      step('A unlocks', (s) =>
        unlock(
          s,
          s.k(
            String(s.get('a').key)
              .slice(s.prefix.length)
              .replace('<lease A>', BigInt(s.id('A')).toString(16)),
          ),
        ),
      ),
      step('B holds the lock', (s) => pending(s, 'l').done.then((r) => shown(s, r))),
      step('lock with lease 0 takes a new session lease of 60 s', async (s) => {
        const r = await cc(s).lock('Lock', { name: s.k('m') }).done;
        const hex =
          Buffer.from(r.key as Buffer)
            .toString()
            .split('/')
            .pop() ?? '';
        const id = BigInt(`0x${hex}`).toString();
        s.alias('session', id);
        const ttl = await s.c.lease.LeaseTimeToLive({ ID: id });
        return { lock: shown(s, r), grantedTTL: ttl.grantedTTL };
      }),
    ],
  },
  {
    name: 'a waiter that gives up leaves the queue',
    steps: [
      step('grant A and C', async (s) => [await grantAs(s, 'A', 30), await grantAs(s, 'C', 30)]),
      step('A locks', (s) => lock(s, { name: s.k('l'), lease: s.id('A') })),
      step('C waits', (s) => startWaiting(s, 'l', cc(s).lock('Lock', { name: s.k('l'), lease: s.id('C') }), 2)),
      step('C gives up', async (s) => {
        pending(s, 'l').cancel();
        await waitFor(async () => Number((await queue(s, 'l')).count) === 1, 10_000, "the waiter's key deleted");
        return queue(s, 'l');
      }),
    ],
  },
  {
    name: "the holder's lease expires and the next waiter gets the lock",
    steps: [
      step('grant E (TTL 2) and F', async (s) => [await grantAs(s, 'E', 2), await grantAs(s, 'F', 30)]),
      step('E locks', (s) => lock(s, { name: s.k('l'), lease: s.id('E') })),
      step('F waits', (s) => startWaiting(s, 'l', cc(s).lock('Lock', { name: s.k('l'), lease: s.id('F') }), 2)),
      step('E expires, F holds the lock', async (s) => [await pending(s, 'l').done.then((r) => shown(s, r)), await queue(s, 'l')]),
    ],
  },
  {
    name: 'election: errors, campaign, proclaim, observe, resign',
    steps: [
      step('no leader yet', (s) => elect(s, 'Leader', { name: s.k('e') }), { etcd: grpcError('UNKNOWN', 'election: no leader') }),
      step('proclaim without a leader key', (s) => elect(s, 'Proclaim', { value: Buffer.from('x') }), {
        etcd: grpcError('UNKNOWN', '"leader" field must be provided'),
      }),
      step('resign without a leader key', (s) => elect(s, 'Resign', {})),
      step('campaign with an unknown lease', (s) => elect(s, 'Campaign', { name: s.k('e'), lease: '7778', value: Buffer.from('v') })),
      step('grant A and B', async (s) => [await grantAs(s, 'A', 30), await grantAs(s, 'B', 30)]),
      step(
        'campaign with a value over --max-request-bytes',
        (s) => elect(s, 'Campaign', { name: s.k('e'), lease: s.id('A'), value: Buffer.alloc(1_600_000, 97) }),
        { etcd: grpcError('UNKNOWN', 'etcdserver: request is too large') },
      ),
      step('A campaigns and leads', async (s) => {
        const r = await cc(s).election('Campaign', { name: s.k('e'), lease: s.id('A'), value: Buffer.from('one') }).done;
        s.set('A', r.leader);
        return shown(s, r);
      }),
      step('A campaigns again with another value: proclaimed', (s) =>
        elect(s, 'Campaign', { name: s.k('e'), lease: s.id('A'), value: Buffer.from('uno') }),
      ),
      step('leader', (s) => elect(s, 'Leader', { name: s.k('e') })),
      step(
        'proclaim with a wrong revision',
        (s) => elect(s, 'Proclaim', { leader: { ...s.get('A'), rev: '1' }, value: Buffer.from('x') }),
        {
          etcd: grpcError('UNKNOWN', 'election: not leader'),
        },
      ),
      step('observe', async (s) => {
        const seen: Msg[] = [];
        const o = cc(s).observe({ name: s.k('e') });
        o.on('data', (m: Msg) => seen.push(m));
        o.on('error', () => undefined);
        s.set('observer', o);
        s.set('seen', seen);
        await waitFor(() => seen.length === 1, 10_000, 'the current leader observed');
        return shown(s, seen);
      }),
      step('A proclaims', (s) => elect(s, 'Proclaim', { leader: s.get('A'), value: Buffer.from('two') })),
      step('B campaigns and waits', (s) =>
        startWaiting(s, 'e', cc(s).election('Campaign', { name: s.k('e'), lease: s.id('B'), value: Buffer.from('b') }), 2),
      ),
      step('resign with a wrong revision does nothing', (s) => elect(s, 'Resign', { leader: { ...s.get('A'), rev: '1' } })),
      step('A resigns', (s) => elect(s, 'Resign', { leader: s.get('A') })),
      step('B leads', async (s) => {
        const r = await pending(s, 'e').done;
        s.set('B', r.leader);
        return [shown(s, r), await elect(s, 'Leader', { name: s.k('e') })];
      }),
      step('observed: every value of every leader', async (s) => {
        const seen = s.get<Msg[]>('seen');
        await waitFor(() => seen.length >= 3, 10_000, 'three observations');
        return shown(s, seen);
      }),
      step('B resigns: no leader', async (s) => {
        s.get<{ cancel(): void }>('observer').cancel();
        return [await elect(s, 'Resign', { leader: s.get('B') }), await elect(s, 'Leader', { name: s.k('e') }).catch((e) => e.details)];
      }),
    ],
  },
];

diffSuite('lock-election', cases);
