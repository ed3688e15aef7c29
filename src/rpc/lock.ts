/**
 * etcd's v3lock service (Lock, Unlock) as etcd's server runs it through concurrency.Mutex: the
 * caller's session lease owns `<name>/<lease hex>`, and the lock is held once every key under
 * `<name>/` created before it is gone. Errors reach the caller as etcd's lock server passes them
 * on: the KV error's text with code Unknown.
 */
import { Code, EtcdError } from '../errors';
import type { Credentials } from '../mvcc/auth/types';
import type { Header, RangeResponse } from '../mvcc/types';
import type { UnaryMethod } from './calls';
import { big, header } from './codec/header';
import { asUnknown } from './concurrency/errors';
import {
  checkedTxn,
  createdAt,
  firstCreated,
  ownKey,
  prefixOf,
  rangeAt,
  rangeOf,
  sessionLease,
  waitDeletes,
  whileWaiting,
} from './concurrency/recipes';
import type { RpcContext } from './context';
import type * as pb from './messages';
import { checkDeleteRange, checkSize } from './validate';

const EMPTY = Buffer.alloc(0);

/** concurrency.ErrSessionExpired: the waiter's key went (its lease expired) while it waited. */
const sessionExpired = (): EtcdError => new EtcdError(Code.Unknown, 'mutex: session is expired');

interface LockResult {
  revision: number;
  key: Buffer;
}

export function lockCalls(ctx: RpcContext) {
  const { store, identity } = ctx;

  const lock = async (name: Buffer, leaseIn: bigint, who: Credentials, signal: AbortSignal): Promise<LockResult> => {
    const lease = await sessionLease(store, leaseIn, who);
    const prefix = prefixOf(name);
    const key = ownKey(prefix, lease);
    const owner = firstCreated(prefix);
    // A session that holds or waits for the lock already keeps its key (locking twice is one acquisition).
    const resp = await checkedTxn(
      ctx,
      {
        compare: [createdAt(key, 0)],
        success: [
          { kind: 'put', put: { key, value: EMPTY, lease, prev_kv: false, ignore_value: false, ignore_lease: false } },
          { kind: 'range', range: owner },
        ],
        failure: [
          { kind: 'range', range: rangeOf(key) },
          { kind: 'range', range: owner },
        ],
      },
      who,
    );
    const myRev = resp.succeeded ? resp.header.revision : rangeAt(resp, 0).kvs[0].create_revision;
    const first = rangeAt(resp, 1).kvs;
    if (first.length === 0 || first[0].create_revision === myRev) return { revision: resp.header.revision, key };
    let got: RangeResponse;
    try {
      await waitDeletes(store, prefix, myRev - 1, who, signal);
      got = await store.range(rangeOf(key), who);
    } catch (e) {
      // A waiter that gives up leaves the queue, as Mutex.Lock's unlock on a failed wait does.
      await store.deleteRange({ key, range_end: EMPTY, prev_kv: false }, who).catch(() => undefined);
      throw e;
    }
    if (got.kvs.length === 0) throw sessionExpired();
    return { revision: got.header.revision, key };
  };

  const unlock = async (key: Buffer, who: Credentials): Promise<Header> => {
    const req = { key, range_end: EMPTY, prev_kv: false };
    checkDeleteRange(req);
    return (await store.deleteRange(req, who)).header;
  };

  const Lock: UnaryMethod<pb.LockRequest, LockResult, pb.LockResponse> = {
    waits: true,
    run: (m, size, who, signal) =>
      asUnknown(
        whileWaiting(ctx, 'lock', signal, (s) => {
          checkSize(size, ctx.limits);
          return lock(m.name, big(m.lease), who, s);
        }),
      ),
    encode: (r) => ({ header: header(identity, r.revision), key: r.key }),
  };
  const Unlock: UnaryMethod<pb.UnlockRequest, Header, pb.UnlockResponse> = {
    run: (m, _size, who) => asUnknown(unlock(m.key, who)),
    encode: (r) => ({ header: header(identity, r.revision) }),
  };
  return { Lock, Unlock };
}
