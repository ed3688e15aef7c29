/**
 * etcd's lessor over the log: grant, revoke, keepalive, time-to-live and the expiry loop. Every
 * change is a write job; expiry is judged again under the fence with the database clock, so no two
 * instances ever both expire a lease, and a revoke or expiry deletes all its keys at one revision.
 */
import type { Logger } from 'pino';
import { Errors } from '../errors';
import type { Log } from '../log/log';
import type { Batch } from '../log/types';
import { effectiveTTL, type Lease, type LeaseTable } from './lease-table';
import type { RevisionIndex } from './revision-index';
import type {
  LeaseGrantResponse,
  LeaseKeepAliveResponse,
  LeaseLeasesResponse,
  LeaseRevokeResponse,
  LeaseTimeToLiveResponse,
} from './types';
import type { WriteTxn } from './write-txn';

/** A permission check; throws etcd's error. */
type Check = () => void;
const none: Check = () => undefined;

export class Lessor {
  private timer: NodeJS.Timeout | undefined;
  private readonly expiring = new Set<bigint>();

  constructor(
    private readonly table: LeaseTable,
    private readonly index: RevisionIndex,
    private readonly log: Log,
    /** A write transaction in `batch` (revocation deletes keys). */
    private readonly writeIn: (batch: Batch) => WriteTxn,
    private readonly logger: Logger,
  ) {}

  /** Starts checking for expired leases every `intervalMs`. */
  start(intervalMs: number): void {
    this.timer = setInterval(() => this.expire(), intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
  }

  /** `check` runs first in the job (the permission check under the fence), as do the others'. */
  grant(id: bigint, ttl: number, check: Check = none): Promise<LeaseGrantResponse> {
    const effective = effectiveTTL(ttl);
    return this.log.submit((b) => {
      check();
      const lease = this.table.grant(b, id, effective);
      return { header: { revision: b.revision }, ID: lease.id, TTL: lease.ttl };
    });
  }

  revoke(id: bigint, check: Check = none): Promise<LeaseRevokeResponse> {
    return this.log.submit((b) => {
      check();
      const lease = this.table.get(id);
      if (!lease) throw Errors.leaseNotFound();
      return { header: { revision: this.revokeIn(b, lease) } };
    });
  }

  /** Renews a lease; TTL 0 answers an unknown or expired lease, as etcd does. */
  keepAlive(id: bigint, check: Check = none): Promise<LeaseKeepAliveResponse> {
    return this.log.submit((b) => {
      check();
      return { header: { revision: b.revision }, ID: id, TTL: this.table.renew(b, id) };
    });
  }

  async timeToLive(id: bigint, withKeys: boolean, check: Check = none): Promise<LeaseTimeToLiveResponse> {
    await this.log.linearize();
    check();
    const header = { revision: this.index.revision };
    const lease = this.table.get(id);
    if (!lease) return { header, ID: id, TTL: -1, grantedTTL: 0, keys: [] };
    const remaining = Math.max(0, Math.trunc((lease.expiresAt - Date.now()) / 1000));
    const keys = withKeys ? [...lease.keys].sort().map((k) => Buffer.from(k, 'latin1')) : [];
    return { header, ID: id, TTL: remaining, grantedTTL: lease.ttl, keys };
  }

  async leases(check: Check = none): Promise<LeaseLeasesResponse> {
    await this.log.linearize();
    check();
    return { header: { revision: this.index.revision }, leases: [...this.table.all()].map((l) => l.id) };
  }

  /** Deletes a lease's keys at one revision (in key order, as etcd does) and drops the lease. */
  private revokeIn(b: Batch, lease: Lease): number {
    const w = this.writeIn(b);
    for (const k of [...lease.keys].sort()) w.deleteKey(k);
    this.table.remove(b, lease.id);
    return w.finish();
  }

  private expire(): void {
    for (const id of this.table.expiredBy(Date.now())) {
      if (this.expiring.has(id)) continue;
      this.expiring.add(id);
      this.log
        .submit((b) => {
          const lease = this.table.get(id);
          // Judged again by the database clock, under the fence.
          if (!lease || lease.expiresAt > b.nowMs) return false;
          this.revokeIn(b, lease);
          return true;
        })
        .then((expired) => expired && this.logger.info({ lease: id.toString(16) }, 'lease expired'))
        .catch((e: Error) => this.logger.warn({ err: e, lease: id.toString(16) }, 'lease expiry failed; will retry'))
        .finally(() => this.expiring.delete(id));
    }
  }
}
