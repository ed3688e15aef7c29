/**
 * etcd's client/v3/concurrency recipes as its v3lock and v3election servers run them, here on the
 * store instead of on a client: a session's lease, the key a session owns under a prefix, and the
 * wait for every older key under the prefix to go. Every step is an ordinary KV call with the
 * caller's credentials, so auth checks them as etcd checks its own client's calls.
 */
import { Code, EtcdError, Errors } from '../../errors';
import type { Credentials } from '../../mvcc/auth/types';
import type { Store } from '../../mvcc/store';
import {
  CompareResult,
  CompareTarget,
  SortOrder,
  SortTarget,
  type Compare,
  type Header,
  type RangeRequest,
  type RangeResponse,
  type TxnRequest,
  type TxnResponse,
} from '../../mvcc/types';
import type { RpcContext } from '../context';
import { checkTxn } from '../validate';

/** concurrency.NewSession's TTL when no lease is given. */
const SESSION_TTL = 60;

const EMPTY = Buffer.alloc(0);
const SLASH = Buffer.from('/');

/** What a caller that went away gets (grpc-go's text for a canceled context). */
const canceled = (): EtcdError => new EtcdError(Code.Canceled, 'context canceled');

/** A session's lease as NewSession picks it: the one given, else a new one of 60 s (etcd grants it for lease 0). */
export async function sessionLease(store: Store, lease: bigint, who: Credentials): Promise<bigint> {
  if (lease !== 0n) return lease;
  return (await store.lease.grant(0n, SESSION_TTL, who)).ID;
}

/** The prefix of a lock or election name: `<name>/`. */
export function prefixOf(name: Buffer): Buffer {
  return Buffer.concat([name, SLASH]);
}

/** `<prefix><lease>`, the lease in hex as Go's %x writes an int64. */
export function ownKey(prefix: Buffer, lease: bigint): Buffer {
  const hex = lease < 0n ? `-${(-lease).toString(16)}` : lease.toString(16);
  return Buffer.concat([prefix, Buffer.from(hex, 'latin1')]);
}

/** clientv3's range end of a prefix: its last byte below 0xff incremented, or "\0" (from the key on). */
export function prefixEnd(prefix: Buffer): Buffer {
  for (let i = prefix.length - 1; i >= 0; i--) {
    if (prefix[i] < 0xff) {
      const end = Buffer.from(prefix.subarray(0, i + 1));
      end[i]++;
      return end;
    }
  }
  return Buffer.from([0]);
}

export function rangeOf(key: Buffer, over: Partial<RangeRequest> = {}): RangeRequest {
  return {
    key,
    range_end: EMPTY,
    limit: 0,
    revision: 0,
    sort_order: SortOrder.NONE,
    sort_target: SortTarget.KEY,
    serializable: false,
    keys_only: false,
    count_only: false,
    min_mod_revision: 0,
    max_mod_revision: 0,
    min_create_revision: 0,
    max_create_revision: 0,
    ...over,
  };
}

/** clientv3.WithFirstCreate on a prefix: the oldest key, the owner. */
export function firstCreated(prefix: Buffer): RangeRequest {
  return rangeOf(prefix, { range_end: prefixEnd(prefix), sort_target: SortTarget.CREATE, sort_order: SortOrder.ASCEND, limit: 1 });
}

/** clientv3.WithLastCreate and WithMaxCreateRev: the youngest key created at or before `maxCreateRev`. */
function lastCreatedUpTo(prefix: Buffer, maxCreateRev: number): RangeRequest {
  return rangeOf(prefix, {
    range_end: prefixEnd(prefix),
    sort_target: SortTarget.CREATE,
    sort_order: SortOrder.DESCEND,
    limit: 1,
    max_create_revision: maxCreateRev,
  });
}

/** The compare `create_revision(key) == rev` (rev 0: the key does not exist). */
export function createdAt(key: Buffer, rev: number): Compare {
  return {
    result: CompareResult.EQUAL,
    target: CompareTarget.CREATE,
    key,
    range_end: EMPTY,
    operand: { kind: 'create_revision', value: rev },
  };
}

/** A txn checked as the KV service checks one (etcd's own client goes through the same checks). */
export function checkedTxn(ctx: RpcContext, req: TxnRequest, who: Credentials): Promise<TxnResponse> {
  checkTxn(req, ctx.limits);
  return ctx.store.txn(req, who);
}

/** A txn response's n-th op result as a range. */
export function rangeAt(r: TxnResponse, n: number): RangeResponse {
  const op = r.responses[n];
  if (op?.kind !== 'range') throw new Error(`txn response ${n} is not a range`);
  return op.range;
}

/**
 * etcd's waitDeletes: until no key under `prefix` created at or before `maxCreateRev` is left,
 * wait for the youngest of them to be deleted. Answers the header of the last (empty) range.
 */
export async function waitDeletes(
  store: Store,
  prefix: Buffer,
  maxCreateRev: number,
  who: Credentials,
  signal: AbortSignal,
): Promise<Header> {
  for (;;) {
    if (signal.aborted) throw signal.reason as Error;
    const r = await store.range(lastCreatedUpTo(prefix, maxCreateRev), who);
    if (r.kvs.length === 0) return r.header;
    await store.waitDeleted(r.kvs[0].key, r.header.revision, who, signal);
  }
}

/**
 * Runs a call that may wait: its signal aborts when the caller leaves (`outer`) or the server stops
 * (the call counts among the long-lived streams meanwhile, so shutdown ends it).
 */
export async function whileWaiting<T>(
  ctx: RpcContext,
  kind: 'lock' | 'election',
  outer: AbortSignal | undefined,
  fn: (signal: AbortSignal) => Promise<T>,
): Promise<T> {
  const ac = new AbortController();
  const entry = { kind, end: () => ac.abort(Errors.stopped()) };
  const onOuter = (): void => ac.abort(canceled());
  if (outer?.aborted) onOuter();
  outer?.addEventListener('abort', onOuter);
  ctx.streams.add(entry);
  try {
    return await fn(ac.signal);
  } finally {
    ctx.streams.delete(entry);
    outer?.removeEventListener('abort', onOuter);
  }
}
