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
  /** Runs fn as a write job of the log (in the next batch, under the fence). */
  write<T>(fn: (w: WriteTxn) => T): Promise<T>;
  /** The revision memory has applied. */
  revision(): number;
  /** Brings memory up to everything committed (a linearizable read's catch-up). */
  linearize(): Promise<void>;
}

export class KvWrites {
  /** Where writes commit (an elected writer, or here); none: always here. */
  route: WriteRoute | undefined;

  constructor(private readonly d: KvWritesDeps) {}

  put(req: PutRequest, who: Credentials): Promise<PutResponse> {
    const refused = this.d.space.check(costPut(req));
    if (refused) return refused;
    return this.route ? this.routed('put', req, who) : this.putHere(req, who);
  }

  deleteRange(req: DeleteRangeRequest, who: Credentials): Promise<DeleteRangeResponse> {
    const refused = this.d.space.refusedIfCorrupt();
    if (refused) return refused;
    return this.route ? this.routed('deleteRange', req, who) : this.deleteRangeHere(req, who);
  }

  /** A Txn that can write (txnWrites). */
  txn(req: TxnRequest, who: Credentials): Promise<TxnResponse> {
    const refused = this.d.space.check(costTxn(req));
    if (refused) return refused;
    return this.route ? this.routed('txn', req, who) : this.txnHere(req, who);
  }

  /**
   * A write another instance forwarded to this one (the elected writer): committed here whatever
   * the route says, with the caller's credentials judged here as if it had come in directly.
   */
  commitHere(w: RoutedWrite): Promise<RoutedWrites[WriteOp]['res']> {
    switch (w.op) {
      case 'put':
        return this.d.space.check(costPut(w.req)) ?? this.putHere(w.req, w.who);
      case 'deleteRange':
        return this.d.space.refusedIfCorrupt() ?? this.deleteRangeHere(w.req, w.who);
      case 'txn':
        return this.d.space.check(costTxn(w.req)) ?? this.txnHere(w.req, w.who);
    }
  }

  private routed<K extends WriteOp>(op: K, req: RoutedWrites[K]['req'], who: Credentials): Promise<RoutedWrites[K]['res']> {
    const here = () => this.commitHere({ op, req, who } as RoutedWrite) as Promise<RoutedWrites[K]['res']>;
    return routeWrite(this.route, op, req, who, here, (revision) => this.catchUp(revision));
  }

  /** Memory reaches `revision` (committed elsewhere a moment ago) before the caller hears of it. */
  private async catchUp(revision: number): Promise<void> {
    if (this.d.revision() < revision) await this.d.linearize();
  }

  private putHere(req: PutRequest, who: Credentials): Promise<PutResponse> {
    return this.d.write((w) => {
      this.d.guard.checkPut(who, req);
      return w.put(req);
    });
  }

  private deleteRangeHere(req: DeleteRangeRequest, who: Credentials): Promise<DeleteRangeResponse> {
    return this.d.write((w) => {
      this.d.guard.checkDeleteRange(who, req);
      return w.deleteRange(req);
    });
  }

  private txnHere(req: TxnRequest, who: Credentials): Promise<TxnResponse> {
    return this.d.write((w) => {
      this.d.guard.checkTxn(who, req);
      return w.txn(req);
    });
  }
}
