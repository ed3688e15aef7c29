/**
 * etcd's quota and alarm appliers in front of writes. Over quota, a write that adds data raises
 * NOSPACE and fails; while NOSPACE is raised, Put, Txn with puts and LeaseGrant fail (etcd's
 * capped applier) and deletes, compaction and reads go on. While CORRUPT is raised every write,
 * compaction and lease change fails (etcd's corrupt applier); reads go on.
 */
import { Errors } from '../errors';
import type { Alarms } from '../log/alarms';
import type { PutRequest, RequestOp, TxnRequest } from './types';

/** etcd's estimate of a key's metadata, and of a lease (server/etcdserver/quota.go). */
const KV_OVERHEAD = 256;
const LEASE_OVERHEAD = 64;

export function costPut(r: PutRequest): number {
  // The KeyValue's protobuf size is about key + value plus a few tag bytes.
  return r.key.length + r.value.length + 8 + KV_OVERHEAD;
}

function costOps(ops: RequestOp[]): number {
  let n = 0;
  for (const op of ops) {
    if (op.kind === 'put') n += costPut(op.put);
    else if (op.kind === 'txn') n += costTxn(op.txn);
  }
  return n;
}

/** etcd's costTxn: the larger of the two branches' puts. */
export function costTxn(r: TxnRequest): number {
  return Math.max(costOps(r.success), costOps(r.failure));
}

export const COST_LEASE_GRANT = LEASE_OVERHEAD;

export class SpaceGuard {
  constructor(
    private readonly alarms: Alarms,
    private readonly memberId: () => bigint,
  ) {}

  /**
   * Before a write that adds `cost` bytes (0 for deletes): undefined when it may go ahead (the
   * common case costs no promise), else a promise that rejects with etcd's error.
   */
  check(cost: number): Promise<never> | undefined {
    // etcd's quota check runs before the request reaches the (capped or corrupt) applier.
    if (!this.alarms.fits(cost)) {
      return this.alarms.activate({ memberId: this.memberId(), alarm: 'NOSPACE' }).then(() => Promise.reject(Errors.noSpace()));
    }
    if (this.alarms.has('CORRUPT')) return Promise.reject(Errors.corrupt());
    if (cost > 0 && this.alarms.has('NOSPACE')) return Promise.reject(Errors.noSpace());
    return undefined;
  }

  /** Before a change that adds nothing (delete, compaction, lease revoke). */
  refusedIfCorrupt(): Promise<never> | undefined {
    return this.alarms.has('CORRUPT') ? Promise.reject(Errors.corrupt()) : undefined;
  }
}
