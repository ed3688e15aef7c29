/**
 * The lease table in memory (mirrored in the log's lease rows) and which keys each lease holds.
 * Local changes happen only inside write jobs, each paired with an undo; other instances' changes
 * arrive as lease snapshots and rows from the log.
 */
import { randomBytes } from 'node:crypto';
import { Errors } from '../errors';
import type { Batch, LeaseRow, OnUndo } from '../log/types';

export interface Lease {
  readonly id: bigint;
  ttl: number;
  expiresAt: number;
  readonly keys: Set<string>;
}

/** etcd's minimum TTL with default raft timing: ceil(1.5 × election timeout) seconds. */
export const MIN_TTL = 2;
export const MAX_TTL = 9_000_000_000;

export class LeaseTable {
  private readonly leases = new Map<bigint, Lease>();
  /**
   * Keys attached, by another instance's rows, to a lease this table has not heard of yet (rows and
   * lease snapshots are read separately); a later sync adopts them.
   */
  private readonly orphans = new Map<bigint, Set<string>>();

  get(id: bigint): Lease | undefined {
    return this.leases.get(id);
  }

  all(): IterableIterator<Lease> {
    return this.leases.values();
  }

  /** Replaces the table with the database's rows; keys are attached afterwards (attachLoaded). */
  reset(rows: LeaseRow[]): void {
    this.leases.clear();
    this.orphans.clear();
    for (const r of rows) this.leases.set(r.id, { id: r.id, ttl: r.ttl, expiresAt: r.expiresAt, keys: new Set() });
  }

  /** Records at startup or from another instance's rows that `k` is held by lease `id`. */
  attachLoaded(id: bigint, k: string): void {
    this.leases.get(id)?.keys.add(k);
  }

  /**
   * A key moves from lease `from` to lease `to` (0n: none): in a write job (`onUndo` given), or
   * following another instance's row (null), where the lease may not have been synced yet.
   */
  move(onUndo: OnUndo | null, k: string, from: bigint, to: bigint): void {
    if (from === to) return;
    const a = from !== 0n ? this.leases.get(from) : undefined;
    const b = to !== 0n ? this.leases.get(to) : undefined;
    if (!onUndo) {
      if (from !== 0n && !a) this.orphans.get(from)?.delete(k);
      if (to !== 0n && !b) {
        let keys = this.orphans.get(to);
        if (!keys) this.orphans.set(to, (keys = new Set()));
        keys.add(k);
      }
    }
    const hadA = a?.keys.delete(k) ?? false;
    const hadB = b ? b.keys.has(k) : true;
    b?.keys.add(k);
    onUndo?.(() => {
      if (hadA) a?.keys.add(k);
      if (b && !hadB) b.keys.delete(k);
    });
  }

  /**
   * Makes the table match the database's lease rows (another instance granted, renewed, revoked or
   * expired leases). Keys stay attached to the leases that remain.
   */
  sync(rows: LeaseRow[]): void {
    const seen = new Set<bigint>();
    for (const r of rows) {
      seen.add(r.id);
      const l = this.leases.get(r.id);
      if (l) {
        l.ttl = r.ttl;
        l.expiresAt = r.expiresAt;
        continue;
      }
      const keys = this.orphans.get(r.id) ?? new Set<string>();
      this.orphans.delete(r.id);
      this.leases.set(r.id, { id: r.id, ttl: r.ttl, expiresAt: r.expiresAt, keys });
    }
    for (const id of [...this.leases.keys()]) if (!seen.has(id)) this.leases.delete(id);
  }

  /** Adds a lease (a job step). `ttl` is already within etcd's bounds. */
  grant(batch: Batch, requestedId: bigint, ttl: number): Lease {
    let id = requestedId;
    if (id === 0n) {
      do id = randomBytes(8).readBigUInt64BE() >> 1n;
      while (id === 0n || this.leases.has(id));
    } else if (this.leases.has(id)) {
      throw Errors.leaseExist();
    }
    const lease: Lease = { id, ttl, expiresAt: batch.nowMs + ttl * 1000, keys: new Set() };
    this.leases.set(id, lease);
    batch.onUndo(() => this.leases.delete(id));
    batch.putLease({ id, ttl, expiresAt: lease.expiresAt });
    return lease;
  }

  /** Renews a lease; returns its TTL, or 0 when it is unknown or already expired. */
  renew(batch: Batch, id: bigint): number {
    const lease = this.leases.get(id);
    if (!lease || lease.expiresAt <= batch.nowMs) return 0;
    const before = lease.expiresAt;
    lease.expiresAt = batch.nowMs + lease.ttl * 1000;
    batch.onUndo(() => (lease.expiresAt = before));
    batch.putLease({ id, ttl: lease.ttl, expiresAt: lease.expiresAt });
    return lease.ttl;
  }

  /** Drops a lease from the table (its keys are deleted by the caller first). */
  remove(batch: Batch, id: bigint): void {
    const lease = this.leases.get(id);
    if (!lease) return;
    this.leases.delete(id);
    batch.onUndo(() => this.leases.set(id, lease));
    batch.deleteLease(id);
  }

  /** Leases whose expiry (by the local clock's view) has passed; the writer re-checks by the DB clock. */
  expiredBy(nowMs: number): bigint[] {
    const out: bigint[] = [];
    for (const l of this.leases.values()) if (l.expiresAt <= nowMs) out.push(l.id);
    return out;
  }
}

/** etcd's TTL rules: too large is an error, too small is raised to the minimum. */
export function effectiveTTL(ttl: number): number {
  if (ttl > MAX_TTL) throw Errors.leaseTTLTooLarge();
  return Math.max(ttl, MIN_TTL);
}
