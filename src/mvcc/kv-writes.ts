/**
 * The key writes (Put, DeleteRange, a Txn that writes): refused when the space quota says so,
 * then either committed here — a job whose permission check runs under the fence — or sent along
 * the route to the elected writer, whose answer waits for memory here to reach its revision.
 */
import type { AuthGuard } from './auth/auth-guard';
import type { Credentials } from './auth/types';
import { costPut, costTxn, type SpaceGuard } from './space-guard';
import type { DeleteRangeRequest, DeleteRangeResponse, PutRequest, PutResponse, TxnRequest, TxnResponse } from './types';
import type { WriteTxn } from './write-txn';
import { routeWrite, type RoutedWrite, type RoutedWrites, type WriteOp, type WriteRoute } from './write-route';

interface KvWritesDeps {
  space: SpaceGuard;
  guard: AuthGuard;
  /** Runs fn as a write job of the log (in the next batch, under the fence), retried until `deadline`. */
  write<T>(fn: (w: WriteTxn) => T, deadline?: number): Promise<T>;
  /** The revision memory has applied. */
  revision(): number;
  /** Brings memory up to everything committed (a linearizable read's catch-up). */
  linearize(): Promise<void>;
}

export class KvWrites {
  /** Where writes commit (an elected writer, or here); none: always here. */
  route: WriteRoute | undefined;

  constructor(private readonly d: KvWritesDeps) {}

  /** `deadline` (Date.now() clock): when the caller stops waiting; etcd's request timeout when absent. */
  put(req: PutRequest, who: Credentials, deadline?: number): Promise<PutResponse> {
    const refused = this.d.space.check(costPut(req));
    if (refused) return refused;
    return this.route ? this.routed({ op: 'put', req, who, deadline }) : this.putHere(req, who, deadline);
  }

  deleteRange(req: DeleteRangeRequest, who: Credentials, deadline?: number): Promise<DeleteRangeResponse> {
    const refused = this.d.space.refusedIfCorrupt();
    if (refused) return refused;
    return this.route ? this.routed({ op: 'deleteRange', req, who, deadline }) : this.deleteRangeHere(req, who, deadline);
  }

  /** A Txn that can write (txnWrites). */
  txn(req: TxnRequest, who: Credentials, deadline?: number): Promise<TxnResponse> {
    const refused = this.d.space.check(costTxn(req));
    if (refused) return refused;
    return this.route ? this.routed({ op: 'txn', req, who, deadline }) : this.txnHere(req, who, deadline);
  }

  /**
   * A write another instance forwarded to this one (the elected writer): committed here whatever
   * the route says, with the caller's credentials judged here as if it had come in directly.
   */
  commitHere(w: RoutedWrite): Promise<RoutedWrites[WriteOp]['res']> {
    switch (w.op) {
      case 'put':
        return this.d.space.check(costPut(w.req)) ?? this.putHere(w.req, w.who, w.deadline);
      case 'deleteRange':
        return this.d.space.refusedIfCorrupt() ?? this.deleteRangeHere(w.req, w.who, w.deadline);
      case 'txn':
        return this.d.space.check(costTxn(w.req)) ?? this.txnHere(w.req, w.who, w.deadline);
    }
  }

  private routed<W extends RoutedWrite>(w: W): Promise<RoutedWrites[W['op']]['res']> {
    const here = () => this.commitHere(w) as Promise<RoutedWrites[W['op']]['res']>;
    return routeWrite(this.route, w, here, (revision) => this.catchUp(revision));
  }

  /** Memory reaches `revision` (committed elsewhere a moment ago) before the caller hears of it. */
  private async catchUp(revision: number): Promise<void> {
    if (this.d.revision() < revision) await this.d.linearize();
  }

  private putHere(req: PutRequest, who: Credentials, deadline?: number): Promise<PutResponse> {
    return this.d.write((w) => {
      this.d.guard.checkPut(who, req);
      return w.put(req);
    }, deadline);
  }

  private deleteRangeHere(req: DeleteRangeRequest, who: Credentials, deadline?: number): Promise<DeleteRangeResponse> {
    return this.d.write((w) => {
      this.d.guard.checkDeleteRange(who, req);
      return w.deleteRange(req);
    }, deadline);
  }

  private txnHere(req: TxnRequest, who: Credentials, deadline?: number): Promise<TxnResponse> {
    return this.d.write((w) => {
      this.d.guard.checkTxn(who, req);
      return w.txn(req);
    }, deadline);
  }
}
