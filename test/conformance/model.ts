/**
 * A small in-memory model of etcd's MVCC store, used as an ORACLE by oracle.test.ts: the same
 * requests go to the server and to the model, and every response must be equal.
 *
 * It follows etcd's apply path (server/etcdserver/apply.go, mvcc, v3rpc/key.go), including the
 * parts that are easy to get wrong:
 *  - one revision per write request, however many keys it touches; requests that change nothing
 *    (deleting nothing, read-only txns, revoking a lease without keys) leave the revision alone;
 *  - `count` is the whole range at the read revision, before min/max filters and limit;
 *  - sort: a target other than KEY with order NONE sorts ASCEND, but only the first limit+1 keys
 *    (in key order) that etcd fetched; an explicit order sorts the whole range; ties keep key order;
 *  - txn: all compares (nested ones too) are evaluated against the state before the txn; ops see
 *    the txn's earlier writes; inner response headers say the txn revision once the txn has
 *    written something and the old revision before that; a nested txn's own header says 0;
 *  - duplicate-key detection (checkIntervals): put/put and put/delete on one key in one branch are
 *    rejected, delete/delete is fine, then/else branches of a nested txn may share keys.
 *
 * Bytes are held as latin1 strings, so JS string order is etcd's byte order.
 */
import type { Msg } from '../helpers/client';
import { Code, Err } from './harness';

export const lat = (x: Buffer | Uint8Array | string | null | undefined): string =>
  typeof x === 'string' ? x : Buffer.from(x ?? []).toString('latin1');
export const bytes = (x: string): Buffer => Buffer.from(x, 'latin1');
const num = (x: unknown): number => Number(x ?? 0);
const int64 = (x: unknown): string => BigInt((x as string | number | undefined) ?? 0).toString();

export interface MKV {
  key: string;
  create_revision: number;
  mod_revision: number;
  version: number;
  value: string;
  lease: string;
}
export interface MEvent {
  type: 'PUT' | 'DELETE';
  kv: MKV;
  prev_kv: MKV | null;
}
export interface RangeOut {
  rev: number;
  kvs: MKV[];
  count: number;
  more: boolean;
}
export interface PutOut {
  rev: number;
  prev_kv: MKV | null;
}
export interface DeleteOut {
  rev: number;
  deleted: number;
  prev_kvs: MKV[];
}
export interface TxnOut {
  rev: number;
  succeeded: boolean;
  responses: OpOut[];
}
export type OpOut = { range: RangeOut } | { put: PutOut } | { delete_range: DeleteOut } | { txn: TxnOut };
export interface HeaderOut {
  rev: number;
}

export class ModelError extends Error {
  constructor(
    readonly code: number,
    readonly details: string,
  ) {
    super(details);
  }
}
const compacted = () => new ModelError(Code.OutOfRange, Err.compacted);
const future = () => new ModelError(Code.OutOfRange, Err.future);
const duplicate = () => new ModelError(Code.InvalidArgument, Err.duplicateKey);

// ---------------------------------------------------------------------------------------------
// Wire → model shapes (the client decodes int64 as strings, bytes as Buffers, enums as names).

export function wireKV(m: Msg | null | undefined): MKV | null {
  if (!m) return null;
  return {
    key: lat(m.key),
    create_revision: num(m.create_revision),
    mod_revision: num(m.mod_revision),
    version: num(m.version),
    value: lat(m.value),
    lease: int64(m.lease),
  };
}
export const wireRange = (m: Msg): RangeOut => ({
  rev: num(m.header?.revision),
  kvs: (m.kvs as Msg[]).map((x) => wireKV(x) as MKV),
  count: num(m.count),
  more: Boolean(m.more),
});
export const wirePut = (m: Msg): PutOut => ({ rev: num(m.header?.revision), prev_kv: wireKV(m.prev_kv) });
export const wireDelete = (m: Msg): DeleteOut => ({
  rev: num(m.header?.revision),
  deleted: num(m.deleted),
  prev_kvs: (m.prev_kvs as Msg[]).map((x) => wireKV(x) as MKV),
});
export function wireTxn(m: Msg): TxnOut {
  return {
    rev: num(m.header?.revision),
    succeeded: Boolean(m.succeeded),
    responses: (m.responses as Msg[]).map((r): OpOut => {
      switch (r.response) {
        case 'response_range':
          return { range: wireRange(r.response_range) };
        case 'response_put':
          return { put: wirePut(r.response_put) };
        case 'response_delete_range':
          return { delete_range: wireDelete(r.response_delete_range) };
        case 'response_txn':
          return { txn: wireTxn(r.response_txn) };
        default:
          throw new Error(`unknown txn response ${JSON.stringify(r)}`);
      }
    }),
  };
}
export const wireEvent = (e: Msg): MEvent => ({
  type: e.type as MEvent['type'],
  kv: wireKV(e.kv) as MKV,
  prev_kv: wireKV(e.prev_kv),
});

// ---------------------------------------------------------------------------------------------

const SORT_ORDER = ['NONE', 'ASCEND', 'DESCEND'];
const SORT_TARGET = ['KEY', 'VERSION', 'CREATE', 'MOD', 'VALUE'];
const CMP_TARGET = ['VERSION', 'CREATE', 'MOD', 'VALUE', 'LEASE'];
const CMP_RESULT = ['EQUAL', 'GREATER', 'LESS', 'NOT_EQUAL'];
const enumName = (x: unknown, names: string[]): string => (typeof x === 'number' ? names[x] : String(x ?? names[0]));

const inRange = (k: string, key: string, end: string): boolean => (end === '' ? k === key : end === '\0' ? k >= key : k >= key && k < end);

interface Path {
  ok: boolean;
  /** For each op of the taken branch that is a nested txn, its own path. */
  kids: Array<Path | undefined>;
}
interface WriteState {
  begin: number;
  changed: boolean;
  events: MEvent[];
}

export class MvccModel {
  rev: number;
  compactRev: number;
  readonly leases = new Set<string>();
  /** Events by revision, in the order etcd emits them. */
  readonly log: Array<{ rev: number; events: MEvent[] }> = [];
  private readonly hist = new Map<string, Array<{ rev: number; kv: MKV | null }>>();
  private readonly keys: string[] = [];

  constructor(rev: number, compactRev: number) {
    this.rev = rev;
    this.compactRev = compactRev;
  }

  // --- state -----------------------------------------------------------------------------------
  private at(key: string, rev: number): MKV | null {
    const h = this.hist.get(key);
    if (!h) return null;
    for (let i = h.length - 1; i >= 0; i--) if (h[i].rev <= rev) return h[i].kv;
    return null;
  }
  private live(key: string, end: string, rev: number): MKV[] {
    const out: MKV[] = [];
    for (const k of this.keys) {
      if (!inRange(k, key, end)) continue;
      const v = this.at(k, rev);
      if (v) out.push(v);
    }
    return out;
  }
  private write(key: string, kv: MKV | null, rev: number): void {
    let h = this.hist.get(key);
    if (!h) {
      h = [];
      this.hist.set(key, h);
      let i = 0;
      while (i < this.keys.length && this.keys[i] < key) i++;
      this.keys.splice(i, 0, key);
    }
    h.push({ rev, kv });
  }
  private finish(st: WriteState): number {
    if (!st.changed) return st.begin;
    this.rev = st.begin + 1;
    this.log.push({ rev: this.rev, events: st.events });
    return this.rev;
  }

  // --- Range -----------------------------------------------------------------------------------
  private rangeAt(req: Msg, curRev: number): RangeOut {
    let rev = num(req.revision);
    if (rev > curRev) throw future();
    if (rev <= 0) rev = curRev;
    if (rev < this.compactRev) throw compacted();
    let list = this.live(lat(req.key), lat(req.range_end), rev);
    const count = list.length;
    if (req.count_only) return { rev: curRev, kvs: [], count, more: false };
    const maxMod = num(req.max_mod_revision);
    const minMod = num(req.min_mod_revision);
    const maxCreate = num(req.max_create_revision);
    const minCreate = num(req.min_create_revision);
    const limit = num(req.limit);
    // etcd reads limit+1 keys (in key order) unless an explicit sort order or a min/max filter
    // asks for everything; a sort defaulted from NONE (target != KEY) sorts only those keys.
    const explicitOrder = enumName(req.sort_order, SORT_ORDER);
    if (limit > 0 && explicitOrder === 'NONE' && !maxMod && !minMod && !maxCreate && !minCreate) {
      list = list.slice(0, limit + 1);
    }
    if (maxMod) list = list.filter((x) => !(x.mod_revision > maxMod));
    if (minMod) list = list.filter((x) => !(x.mod_revision < minMod));
    if (maxCreate) list = list.filter((x) => !(x.create_revision > maxCreate));
    if (minCreate) list = list.filter((x) => !(x.create_revision < minCreate));
    let order = enumName(req.sort_order, SORT_ORDER);
    const target = enumName(req.sort_target, SORT_TARGET);
    if (target !== 'KEY' && order === 'NONE') order = 'ASCEND';
    if (order === 'ASCEND' || order === 'DESCEND') {
      const field = (x: MKV): number | string =>
        target === 'KEY'
          ? x.key
          : target === 'VERSION'
            ? x.version
            : target === 'CREATE'
              ? x.create_revision
              : target === 'MOD'
                ? x.mod_revision
                : x.value;
      const cmp = (a: MKV, b: MKV): number => (field(a) < field(b) ? -1 : field(a) > field(b) ? 1 : 0);
      // Array.prototype.sort is stable: ties keep key order, as etcd's insertion sort does.
      list = [...list].sort(order === 'ASCEND' ? cmp : (a, b) => cmp(b, a));
    }
    let more = false;
    if (limit > 0 && list.length > limit) {
      list = list.slice(0, limit);
      more = true;
    }
    if (req.keys_only) list = list.map((x) => ({ ...x, value: '' }));
    return { rev: curRev, kvs: list, count, more };
  }

  range(req: Msg): RangeOut {
    return this.rangeAt(req, this.rev);
  }

  /** The current kv of one key, or null. */
  peek(key: string): MKV | null {
    return this.at(key, this.rev);
  }

  // --- writes ----------------------------------------------------------------------------------
  private applyPut(req: Msg, st: WriteState): PutOut {
    const key = lat(req.key);
    const rev = st.begin + 1;
    const prev = this.at(key, rev);
    if ((req.ignore_value || req.ignore_lease) && !prev) throw new ModelError(Code.InvalidArgument, Err.keyNotFound);
    const value = req.ignore_value ? (prev as MKV).value : lat(req.value);
    const lease = req.ignore_lease ? (prev as MKV).lease : int64(req.lease);
    const kv: MKV = {
      key,
      create_revision: prev ? prev.create_revision : rev,
      mod_revision: rev,
      version: prev ? prev.version + 1 : 1,
      value,
      lease,
    };
    this.write(key, kv, rev);
    st.changed = true;
    st.events.push({ type: 'PUT', kv, prev_kv: prev });
    return { rev, prev_kv: req.prev_kv ? prev : null };
  }

  private applyDelete(req: Msg, st: WriteState): DeleteOut {
    const rev = st.begin + 1;
    const list = this.live(lat(req.key), lat(req.range_end), rev);
    for (const prev of list) {
      this.write(prev.key, null, rev);
      st.events.push({
        type: 'DELETE',
        kv: { key: prev.key, create_revision: 0, mod_revision: rev, version: 0, value: '', lease: '0' },
        prev_kv: prev,
      });
    }
    if (list.length > 0) st.changed = true;
    return { rev: st.changed ? rev : st.begin, deleted: list.length, prev_kvs: req.prev_kv ? list : [] };
  }

  private checkLease(req: Msg): void {
    const lease = int64(req.lease);
    if (lease !== '0' && !this.leases.has(lease)) throw new ModelError(Code.NotFound, Err.leaseNotFound);
  }

  put(req: Msg): PutOut {
    this.checkLease(req);
    const st: WriteState = { begin: this.rev, changed: false, events: [] };
    const out = this.applyPut(req, st);
    this.finish(st);
    return out;
  }

  deleteRange(req: Msg): DeleteOut {
    const st: WriteState = { begin: this.rev, changed: false, events: [] };
    const out = this.applyDelete(req, st);
    this.finish(st);
    return out;
  }

  // --- Txn -------------------------------------------------------------------------------------
  private compareOne(c: Msg, rev: number): boolean {
    const target = enumName(c.target, CMP_TARGET);
    const list = this.live(lat(c.key), lat(c.range_end), rev);
    if (list.length === 0) return target === 'VALUE' ? false : this.compareKV(c, target, null);
    return list.every((x) => this.compareKV(c, target, x));
  }
  private compareKV(c: Msg, target: string, x: MKV | null): boolean {
    let r: number;
    if (target === 'VALUE') {
      const a = x ? x.value : '';
      const b = lat(c.value);
      r = a < b ? -1 : a > b ? 1 : 0;
    } else {
      const [a, b] =
        target === 'VERSION'
          ? [BigInt(x?.version ?? 0), BigInt(int64(c.version))]
          : target === 'CREATE'
            ? [BigInt(x?.create_revision ?? 0), BigInt(int64(c.create_revision))]
            : target === 'MOD'
              ? [BigInt(x?.mod_revision ?? 0), BigInt(int64(c.mod_revision))]
              : [BigInt(x?.lease ?? '0'), BigInt(int64(c.lease))];
      r = a < b ? -1 : a > b ? 1 : 0;
    }
    switch (enumName(c.result, CMP_RESULT)) {
      case 'EQUAL':
        return r === 0;
      case 'NOT_EQUAL':
        return r !== 0;
      case 'GREATER':
        return r > 0;
      case 'LESS':
        return r < 0;
      default:
        return true;
    }
  }
  private path(req: Msg, rev: number): Path {
    const ok = ((req.compare ?? []) as Msg[]).every((c) => this.compareOne(c, rev));
    const ops = ((ok ? req.success : req.failure) ?? []) as Msg[];
    return { ok, kids: ops.map((op) => (op.request_txn ? this.path(op.request_txn, rev) : undefined)) };
  }
  private static readonly(req: Msg): boolean {
    for (const op of [...((req.success ?? []) as Msg[]), ...((req.failure ?? []) as Msg[])]) {
      if (op.request_put || op.request_delete_range) return false;
      if (op.request_txn && !MvccModel.readonly(op.request_txn)) return false;
    }
    return true;
  }
  private checkPuts(req: Msg, path: Path, rev: number): void {
    ((path.ok ? req.success : req.failure) ?? []).forEach((op: Msg, i: number) => {
      if (op.request_txn) return this.checkPuts(op.request_txn, path.kids[i] as Path, rev);
      const p = op.request_put;
      if (!p) return;
      if ((p.ignore_value || p.ignore_lease) && !this.at(lat(p.key), rev)) {
        throw new ModelError(Code.InvalidArgument, Err.keyNotFound);
      }
      this.checkLease(p);
    });
  }
  private checkRanges(req: Msg, path: Path, rev: number): void {
    ((path.ok ? req.success : req.failure) ?? []).forEach((op: Msg, i: number) => {
      if (op.request_txn) return this.checkRanges(op.request_txn, path.kids[i] as Path, rev);
      const r = op.request_range;
      if (!r) return;
      const want = num(r.revision);
      if (want === 0) return;
      if (want > rev) throw future();
      if (want < this.compactRev) throw compacted();
    });
  }
  private applyTxn(req: Msg, path: Path, st: WriteState): TxnOut {
    const ops = ((path.ok ? req.success : req.failure) ?? []) as Msg[];
    const responses = ops.map((op, i): OpOut => {
      if (op.request_range) return { range: this.rangeAt(op.request_range, st.changed ? st.begin + 1 : st.begin) };
      if (op.request_put) return { put: this.applyPut(op.request_put, st) };
      if (op.request_delete_range) return { delete_range: this.applyDelete(op.request_delete_range, st) };
      if (op.request_txn) return { txn: this.applyTxn(op.request_txn, path.kids[i] as Path, st) };
      throw new Error(`empty request op ${JSON.stringify(op)}`);
    });
    // A nested txn's own header is never filled in by etcd: it says revision 0.
    return { rev: 0, succeeded: path.ok, responses };
  }

  txn(req: Msg): TxnOut {
    checkIntervals((req.success ?? []) as Msg[]);
    checkIntervals((req.failure ?? []) as Msg[]);
    const begin = this.rev;
    const path = this.path(req, begin);
    if (!MvccModel.readonly(req)) this.checkPuts(req, path, begin);
    this.checkRanges(req, path, begin);
    const st: WriteState = { begin, changed: false, events: [] };
    const out = this.applyTxn(req, path, st);
    out.rev = this.finish(st);
    return out;
  }

  // --- compaction and leases -------------------------------------------------------------------
  compact(rev: number): HeaderOut {
    if (rev <= this.compactRev) throw compacted();
    if (rev > this.rev) throw future();
    this.compactRev = rev;
    return { rev: this.rev };
  }

  grant(id: string): void {
    this.leases.add(int64(id));
  }

  revoke(id: string): HeaderOut {
    const lease = int64(id);
    if (!this.leases.has(lease)) throw new ModelError(Code.NotFound, Err.leaseNotFound);
    this.leases.delete(lease);
    const st: WriteState = { begin: this.rev, changed: false, events: [] };
    for (const k of this.keys) {
      const cur = this.at(k, this.rev);
      if (cur && cur.lease === lease) this.applyDelete({ key: bytes(k) }, st);
    }
    return { rev: this.finish(st) };
  }

  /** Every event after revision `after`, in order. */
  eventsAfter(after: number): MEvent[] {
    return this.log.filter((e) => e.rev > after).flatMap((e) => e.events);
  }
}

/** etcd's duplicate-key check for one branch (v3rpc/key.go checkIntervals). */
export function checkIntervals(reqs: Msg[]): { puts: Set<string>; dels: Array<[string, string]> } {
  const dels: Array<[string, string]> = [];
  // Interval semantics of etcd's adt.StringAffineInterval: an empty end is +infinity; a delete
  // without range_end is the point [key, key]; range_end "\0" yields the (empty) interval [key, "\0").
  const hits = (k: string): boolean => dels.some(([a, e]) => (e === '' ? k === a : k >= a && k < e));
  for (const op of reqs) {
    const d = op.request_delete_range;
    if (!d) continue;
    const key = lat(d.key);
    const end = lat(d.range_end);
    dels.push(end === '' ? [key, ''] : [key, end]);
  }
  const puts = new Set<string>();
  for (const op of reqs) {
    const t = op.request_txn;
    if (!t) continue;
    const then = checkIntervals((t.success ?? []) as Msg[]);
    const els = checkIntervals((t.failure ?? []) as Msg[]);
    for (const k of then.puts) {
      if (puts.has(k) || hits(k)) throw duplicate();
      puts.add(k);
    }
    for (const k of els.puts) {
      if (puts.has(k) && !then.puts.has(k)) throw duplicate();
      if (hits(k)) throw duplicate();
      puts.add(k);
    }
    dels.push(...then.dels, ...els.dels);
  }
  for (const op of reqs) {
    const p = op.request_put;
    if (!p) continue;
    const k = lat(p.key);
    if (puts.has(k) || hits(k)) throw duplicate();
    puts.add(k);
  }
  return { puts, dels };
}
