/**
 * Model-based conformance: seeded random sequences of puts, deletes, txns (random compares on
 * MOD/VERSION/CREATE/VALUE/LEASE, nested txns), ranges (limit, count_only, keys_only, sort,
 * min/max filters, past revisions), lease grants/revokes and compactions go to the server and to
 * the in-memory model (model.ts); every response must be equal (kvs, count, more, succeeded,
 * header.revision, prev_kv, errors), and so must the watch stream of everything that happened.
 *
 * Each seed works under its own prefix; the prefixes grow with the test order, so a "≥ key"
 * range (range_end "\0") from inside a prefix never sees another seed's keys. Each seed starts by
 * compacting at a revision it just wrote, so the compact revision the model starts from is exact.
 */
import { expect, test } from 'vitest';
import { WatchReader, b, prefixEnd, type Msg } from '../helpers/client';
import { note } from '../helpers/notice';
import { forEachTarget, hrev, n, type Ctx } from './harness';
import { MvccModel, ModelError, bytes, wireDelete, wireEvent, wirePut, wireRange, wireTxn, type MKV } from './model';
import { createWatch } from './watchutil';

/** mulberry32: a small seeded PRNG. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

type Outcome = { ok: unknown } | { err: { code: number; details: string } };

function fromModel(f: () => unknown): Outcome {
  try {
    return { ok: f() };
  } catch (e) {
    if (e instanceof ModelError) return { err: { code: e.code, details: e.details } };
    throw e;
  }
}
async function fromServer(p: Promise<Msg>, norm: (m: Msg) => unknown): Promise<Outcome> {
  try {
    return { ok: norm(await p) };
  } catch (e) {
    const ge = e as { code?: number; details?: string };
    if (typeof ge.code !== 'number' || ge.code === 14 || ge.code === 4) throw e; // unavailable/deadline: a real failure
    return { err: { code: ge.code, details: String(ge.details) } };
  }
}

const show = (x: unknown): string =>
  JSON.stringify(x, (_k, v) =>
    v && typeof v === 'object' && v.type === 'Buffer' && Array.isArray(v.data)
      ? `b:${JSON.stringify(Buffer.from(v.data).toString('latin1'))}`
      : v,
  );

const SUFFIXES = ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', '\x00', '\xff'];
const VALUES = ['', 'x', 'y', 'zz', '\x00\xff', 'v1', 'v2'];

class Gen {
  readonly rnd: () => number;
  leases: string[] = [];
  revoked: string[] = [];
  constructor(
    seed: number,
    readonly P: string,
    readonly m: MvccModel,
  ) {
    this.rnd = prng(seed);
  }
  chance(p: number): boolean {
    return this.rnd() < p;
  }
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.rnd() * (hi - lo + 1));
  }
  pick<T>(xs: readonly T[]): T {
    return xs[Math.floor(this.rnd() * xs.length)];
  }
  key(): string {
    return this.P + this.pick(SUFFIXES);
  }
  /** A revision the store still has: [compactRev, rev]. */
  liveRev(): number {
    return this.int(this.m.compactRev, this.m.rev);
  }
  lease(): string {
    if (this.chance(0.03) && this.revoked.length) return this.pick(this.revoked); // NotFound
    if (this.chance(0.02)) return '12345'; // never granted: NotFound
    return this.leases.length && this.chance(0.3) ? this.pick(this.leases) : '0';
  }

  range(inTxn: boolean): Msg {
    const r: Msg = {};
    const kind = this.rnd();
    if (kind < 0.4) {
      r.key = bytes(this.key());
    } else if (kind < 0.7) {
      let [a, z] = [this.key(), this.key()];
      if (a > z && this.chance(0.8)) [a, z] = [z, a];
      r.key = bytes(a);
      r.range_end = bytes(z);
    } else if (kind < 0.85) {
      r.key = b(this.P);
      r.range_end = prefixEnd(this.P);
    } else {
      r.key = bytes(this.key());
      r.range_end = Buffer.from([0]);
    }
    if (this.chance(0.3)) r.limit = this.int(1, 4);
    else if (this.chance(0.03)) r.limit = -1;
    if (this.chance(0.1)) r.count_only = true;
    // eslint-disable-next-line no-dupe-else-if -- each chance() draws a new random number
    else if (this.chance(0.1)) r.keys_only = true;
    if (this.chance(0.3)) {
      r.revision = this.liveRev();
      if (this.chance(inTxn ? 0.03 : 0.15)) r.revision = this.chance(0.5) ? this.m.rev + 1 : this.m.compactRev - 1;
    }
    if (this.chance(0.25)) {
      r.sort_order = this.pick(['NONE', 'ASCEND', 'DESCEND']);
      r.sort_target = this.pick(['KEY', 'VERSION', 'CREATE', 'MOD', 'VALUE']);
      if (!r.limit && this.chance(0.5)) r.limit = this.int(1, 4);
    }
    if (this.chance(0.12)) {
      const f = this.pick(['min_mod_revision', 'max_mod_revision', 'min_create_revision', 'max_create_revision']);
      r[f] = this.int(Math.max(1, this.m.compactRev - 2), this.m.rev);
    }
    return r;
  }

  put(key = this.key()): Msg {
    const p: Msg = { key: bytes(key), value: bytes(this.pick(VALUES) + (this.chance(0.5) ? String(this.int(0, 99)) : '')) };
    if (this.chance(0.5)) p.prev_kv = true;
    const lease = this.lease();
    if (lease !== '0') p.lease = lease;
    if (this.chance(0.04)) {
      delete p.value;
      p.ignore_value = true;
    }
    if (this.chance(0.04)) {
      delete p.lease;
      p.ignore_lease = true;
    }
    return p;
  }

  del(key = this.key()): Msg {
    const d: Msg = { key: bytes(key) };
    const kind = this.rnd();
    if (kind < 0.3) {
      const z = this.key();
      if (z > key) d.range_end = bytes(z);
    } else if (kind < 0.38) {
      d.key = b(this.P);
      d.range_end = prefixEnd(this.P);
    }
    if (this.chance(0.5)) d.prev_kv = true;
    return d;
  }

  compare(): Msg {
    const key = this.key();
    const cur: MKV | null = this.m.peek(key);
    const c: Msg = {
      key: bytes(key),
      target: this.pick(['MOD', 'VERSION', 'CREATE', 'VALUE', 'LEASE']),
      result: this.pick(['EQUAL', 'NOT_EQUAL', 'GREATER', 'LESS']),
    };
    if (this.chance(0.15)) {
      const z = this.chance(0.3) ? prefixEnd(this.P) : bytes(this.key());
      c.range_end = this.chance(0.15) ? Buffer.from([0]) : z;
    }
    const someRev = this.int(Math.max(0, this.m.compactRev - 2), this.m.rev + 1);
    switch (c.target) {
      case 'MOD':
        c.mod_revision = this.pick([0, someRev, cur ? cur.mod_revision : 0, cur ? cur.mod_revision + 1 : 1]);
        break;
      case 'CREATE':
        c.create_revision = this.pick([0, someRev, cur ? cur.create_revision : 0]);
        break;
      case 'VERSION':
        c.version = this.pick([0, 1, 2, 3, cur ? cur.version : 0]);
        break;
      case 'VALUE':
        c.value = bytes(this.chance(0.4) && cur ? cur.value : this.pick(VALUES));
        break;
      case 'LEASE':
        c.lease = this.pick(['0', ...this.leases, cur ? cur.lease : '0']);
        break;
    }
    return c;
  }

  ops(depth: number): Msg[] {
    const used = new Set<string>();
    const freshKey = (): string => {
      for (let i = 0; i < 4; i++) {
        const k = this.key();
        if (!used.has(k) || this.chance(0.1)) {
          used.add(k);
          return k;
        }
      }
      return this.key();
    };
    const out: Msg[] = [];
    const count = this.int(0, 3);
    for (let i = 0; i < count; i++) {
      const kind = this.rnd();
      if (kind < 0.35) {
        const p = this.put(freshKey());
        // keep txn-level lease errors rare
        if (p.lease && !this.leases.includes(String(p.lease)) && this.chance(0.7)) delete p.lease;
        out.push({ request_put: p });
      } else if (kind < 0.55) out.push({ request_delete_range: this.del(freshKey()) });
      else if (kind < 0.9 || depth > 0) out.push({ request_range: this.range(true) });
      else out.push({ request_txn: this.txn(depth + 1) });
    }
    return out;
  }

  txn(depth = 0): Msg {
    const t: Msg = { compare: Array.from({ length: this.int(0, 3) }, () => this.compare()) };
    t.success = this.ops(depth);
    t.failure = this.ops(depth);
    return t;
  }
}

async function runOracle(ctx: Ctx, seed: number, steps: number): Promise<void> {
  const { c } = ctx;
  const P = ctx.prefix(`seed${seed}`);
  // Start from a known compact revision: write a marker outside every prefix, compact there.
  const base = hrev(await c.kv.Put({ key: b('/conf/oracle/000-marker'), value: b(String(seed)) }));
  await c.kv.Compact({ revision: base });
  const m = new MvccModel(base, base);
  const g = new Gen(seed, P, m);

  for (let i = 0; i < 2; i++) {
    const r = await c.lease.LeaseGrant({ TTL: 600 });
    m.grant(String(r.ID));
    g.leases.push(String(r.ID));
  }

  const w = ctx.track(new WatchReader(c.watch()));
  const created = await createWatch(w, { key: b(P), range_end: prefixEnd(P), start_revision: base + 1, prev_kv: true });
  const wid = created.watch_id as string;

  // What the run covered, so a generator change cannot quietly stop exercising something.
  const seen: Record<string, number> = {};
  const count = (what: string): void => void (seen[what] = (seen[what] ?? 0) + 1);
  const check = async (i: number, what: string, req: unknown, exp: Outcome, got: Promise<Outcome>): Promise<void> => {
    const actual = await got;
    expect(actual, `seed ${seed} op #${i} ${what} ${show(req)}`).toEqual(exp);
    if ('err' in exp) count(`${what}:${exp.err.details.replace('etcdserver: ', '')}`);
    else if (what === 'txn') {
      const t = exp.ok as { succeeded: boolean; responses: Array<Record<string, unknown>> };
      count(`txn:${t.succeeded ? 'then' : 'else'}`);
      if (t.responses.some((r) => 'txn' in r)) count('txn:nested');
    } else count(what);
  };

  for (let i = 0; i < steps; i++) {
    const k = g.rnd();
    if (k < 0.3) {
      const req = g.put();
      await check(
        i,
        'put',
        req,
        fromModel(() => m.put(req)),
        fromServer(c.kv.Put(req), wirePut),
      );
    } else if (k < 0.42) {
      const req = g.del();
      await check(
        i,
        'delete',
        req,
        fromModel(() => m.deleteRange(req)),
        fromServer(c.kv.DeleteRange(req), wireDelete),
      );
    } else if (k < 0.67) {
      const req = g.range(false);
      await check(
        i,
        'range',
        req,
        fromModel(() => m.range(req)),
        fromServer(c.kv.Range(req), wireRange),
      );
    } else if (k < 0.95) {
      const req = g.txn();
      await check(
        i,
        'txn',
        req,
        fromModel(() => m.txn(req)),
        fromServer(c.kv.Txn(req), wireTxn),
      );
    } else if (k < 0.97) {
      let rev = m.rev > m.compactRev ? g.int(m.compactRev + 1, m.rev) : m.rev;
      if (g.chance(0.3)) rev = g.pick([m.compactRev, m.rev + 1, Math.max(1, m.compactRev - 1)]);
      const req = { revision: rev };
      await check(
        i,
        'compact',
        req,
        fromModel(() => m.compact(rev)),
        fromServer(c.kv.Compact(req), (r) => ({ rev: hrev(r) })),
      );
    } else if (k < 0.985 || g.leases.length === 0) {
      if (g.leases.length >= 4) continue;
      const r = await c.lease.LeaseGrant({ TTL: 600 });
      expect(hrev(r), `seed ${seed} op #${i} grant does not move the revision`).toBe(m.rev);
      m.grant(String(r.ID));
      g.leases.push(String(r.ID));
    } else {
      const id = g.chance(0.8) && g.leases.length ? g.pick(g.leases) : g.chance(0.5) && g.revoked.length ? g.pick(g.revoked) : '98765';
      const req = { ID: id };
      await check(
        i,
        'revoke',
        req,
        fromModel(() => m.revoke(id)),
        fromServer(c.lease.LeaseRevoke(req), (r) => ({ rev: hrev(r) })),
      );
      if (g.leases.includes(id)) {
        g.leases = g.leases.filter((x) => x !== id);
        g.revoked.push(id);
      }
    }
  }

  if (process.env.STRATA_ORACLE_STATS)
    note(`seed ${seed}: ${JSON.stringify(seen)}, ${m.rev - base} revisions, compacted at base+${m.compactRev - base}`);
  for (const what of [
    'put',
    'delete',
    'range',
    'txn:then',
    'txn:else',
    'txn:nested',
    'compact',
    'revoke',
    'txn:duplicate key given in txn request',
    'range:mvcc: required revision has been compacted',
  ]) {
    expect(seen[what] ?? 0, `seed ${seed} covered ${what}`).toBeGreaterThan(0);
  }

  // Every past revision still retained reads the same as the model.
  for (let rev = m.compactRev; rev <= m.rev; rev += Math.max(1, Math.floor((m.rev - m.compactRev) / 25))) {
    const req = { key: b(P), range_end: prefixEnd(P), revision: rev };
    await check(
      -1,
      `history@${rev}`,
      req,
      fromModel(() => m.range(req)),
      fromServer(c.kv.Range(req), wireRange),
    );
  }

  // The watch saw exactly what happened, one response per revision, in order.
  const expected = m.eventsAfter(base);
  if (expected.length > 0) {
    await w.until(() => w.events(wid).some((e) => n(e.kv.mod_revision) >= m.log[m.log.length - 1].rev), 15_000);
  }
  const resps = w.responses.filter((r) => r.watch_id === wid && (r.events as Msg[]).length > 0);
  const got = resps.flatMap((r) => (r.events as Msg[]).map(wireEvent));
  expect(got.length, `seed ${seed}: number of watch events`).toBe(expected.length);
  expect(got).toEqual(expected);
  const revsSeen = new Set<number>();
  for (const r of resps) {
    const revs = new Set((r.events as Msg[]).map((e) => n(e.kv.mod_revision)));
    for (const rev of revs) {
      expect(revsSeen.has(rev), `revision ${rev} split across watch responses`).toBe(false);
      revsSeen.add(rev);
    }
  }
}

forEachTarget('oracle', (ctx) => {
  for (const seed of [11, 22, 33]) {
    test(`random operations agree with the MVCC model (seed ${seed}, 400 ops)`, async () => {
      await runOracle(ctx, seed, 400);
    }, 60_000);
  }
});
