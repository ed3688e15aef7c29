/**
 * Where a client's write commits: here, or on the instance elected to write for the others (the
 * route is given by the wiring; without one every write commits here). A forwarded write comes
 * back as the writer's response; before it is returned, memory here catches up to its revision,
 * so the caller's next read, compare or watch on this instance sees the write.
 */
import type { Credentials } from './auth/types';
import type { DeleteRangeRequest, DeleteRangeResponse, PutRequest, PutResponse, TxnRequest, TxnResponse } from './types';

/** The writes that may be forwarded: request and response type by operation. */
export interface RoutedWrites {
  put: { req: PutRequest; res: PutResponse };
  deleteRange: { req: DeleteRangeRequest; res: DeleteRangeResponse };
  txn: { req: TxnRequest; res: TxnResponse };
}

export type WriteOp = keyof RoutedWrites;

/**
 * One write as it is routed: the operation, its request, the caller's credentials, and when the
 * caller stops waiting (Date.now() clock; etcd's request timeout when absent).
 */
export type RoutedWrite = { [K in WriteOp]: { op: K; req: RoutedWrites[K]['req']; who: Credentials; deadline?: number } }[WriteOp];

export interface WriteRoute {
  /**
   * undefined: commit it here now (this instance is the writer, or none is known). Otherwise the
   * writer's response, or undefined once it is certain the writer did not take the write (it
   * could not be reached before sending, or it is not the writer any more): then it commits here.
   * Rejects with an EtcdError, the writer's or etcd's timeout when the outcome is unknown.
   */
  forward<W extends RoutedWrite>(w: W): Promise<RoutedWrites[W['op']]['res'] | undefined> | undefined;
}

/**
 * Runs a write through the route: forwarded when the route takes it, else `here`; a forwarded
 * answer waits for memory to reach its revision (`catchUp`).
 */
export async function routeWrite<W extends RoutedWrite>(
  route: WriteRoute | undefined,
  w: W,
  here: () => Promise<RoutedWrites[W['op']]['res']>,
  catchUp: (revision: number) => Promise<void>,
): Promise<RoutedWrites[W['op']]['res']> {
  const forwarded = route?.forward(w);
  if (!forwarded) return here();
  const res = await forwarded;
  if (res === undefined) return here();
  await catchUp(res.header.revision);
  return res;
}
