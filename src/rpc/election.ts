/**
 * etcd's v3election service as etcd's server runs it through concurrency.Election: a campaigner's
 * session lease owns `<name>/<lease hex>`, holding the proclaimed value; the leader is the oldest
 * key under `<name>/`; Proclaim and Resign are guarded by the leader key's create revision.
 * Observe is in election-observe.ts.
 */
import type { Credentials } from '../mvcc/auth/types';
import type { Header, KeyValue } from '../mvcc/types';
import type { UnaryMethod } from './calls';
import { big, header, int } from './codec/header';
import { encodeKv } from './codec/kv';
import { asUnknown, missingLeaderKey, noLeader, notLeader } from './concurrency/errors';
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
import { checkSize } from './validate';

const EMPTY = Buffer.alloc(0);

export interface LeaderKey {
  name: Buffer;
  key: Buffer;
  rev: number;
  lease: bigint;
}

interface CampaignResult {
  revision: number;
  leader: LeaderKey;
}

export interface LeaderResult {
  revision: number;
  kv: KeyValue;
}

const encodeLeaderKey = (l: LeaderKey): pb.CampaignResponse['leader'] => ({
  name: l.name,
  key: l.key,
  rev: l.rev,
  lease: l.lease.toString(),
});

export function electionCalls(ctx: RpcContext) {
  const { store, identity } = ctx;

  const put = (key: Buffer, value: Buffer, lease: bigint) =>
    ({ kind: 'put', put: { key, value, lease, prev_kv: false, ignore_value: false, ignore_lease: false } }) as const;

  /** Election.Proclaim: a put of the leader key only while it is the key created at `rev`. */
  const proclaim = async (key: Buffer, rev: number, lease: bigint, value: Buffer, who: Credentials): Promise<Header> => {
    const r = await checkedTxn(ctx, { compare: [createdAt(key, rev)], success: [put(key, value, lease)], failure: [] }, who);
    if (!r.succeeded) throw notLeader();
    return r.header;
  };

  /** Election.Resign: the leader key deleted if it is still the one created at `rev`; answers either way. */
  const resign = async (key: Buffer, rev: number, who: Credentials): Promise<Header> => {
    const del = { kind: 'delete_range', delete_range: { key, range_end: EMPTY, prev_kv: false } } as const;
    return (await checkedTxn(ctx, { compare: [createdAt(key, rev)], success: [del], failure: [] }, who)).header;
  };

  const campaign = async (m: pb.CampaignRequest, who: Credentials, signal: AbortSignal): Promise<CampaignResult> => {
    const lease = await sessionLease(store, big(m.lease), who);
    const prefix = prefixOf(m.name);
    const key = ownKey(prefix, lease);
    const resp = await checkedTxn(
      ctx,
      { compare: [createdAt(key, 0)], success: [put(key, m.value, lease)], failure: [{ kind: 'range', range: rangeOf(key) }] },
      who,
    );
    let rev = resp.header.revision;
    if (!resp.succeeded) {
      // The session campaigns already: it keeps its place and, if the value differs, proclaims it.
      const kv = rangeAt(resp, 0).kvs[0];
      rev = kv.create_revision;
      if (!kv.value.equals(m.value)) {
        try {
          await proclaim(key, rev, lease, m.value, who);
        } catch (e) {
          await resign(key, rev, who).catch(() => undefined);
          throw e;
        }
      }
    }
    try {
      await waitDeletes(store, prefix, rev - 1, who, signal);
    } catch (e) {
      // A campaigner that gives up leaves the queue (Campaign resigns when its context ends).
      if (signal.aborted) await resign(key, rev, who).catch(() => undefined);
      throw e;
    }
    // etcd answers with the header of the campaign's first txn, even after a wait.
    return { revision: resp.header.revision, leader: { name: m.name, key, rev, lease } };
  };

  const Campaign: UnaryMethod<pb.CampaignRequest, CampaignResult, pb.CampaignResponse> = {
    waits: true,
    run: (m, size, who, signal) =>
      asUnknown(
        whileWaiting(ctx, 'election', signal, (s) => {
          checkSize(size, ctx.limits);
          return campaign(m, who, s);
        }),
      ),
    encode: (r) => ({ header: header(identity, r.revision), leader: encodeLeaderKey(r.leader) }),
  };

  const Proclaim: UnaryMethod<pb.ProclaimRequest, Header, pb.ProclaimResponse> = {
    run: (m, size, who) =>
      asUnknown(
        (async () => {
          const l = m.leader;
          if (!l) throw missingLeaderKey();
          checkSize(size, ctx.limits);
          // As etcd's server does, a leader key without a lease gets a session lease of its own for the put.
          const lease = await sessionLease(store, big(l.lease), who);
          return proclaim(l.key, int(l.rev), lease, m.value, who);
        })(),
      ),
    encode: (r) => ({ header: header(identity, r.revision) }),
  };

  const Resign: UnaryMethod<pb.ResignRequest, Header, pb.ResignResponse> = {
    run: (m, _size, who) =>
      asUnknown(
        (async () => {
          const l = m.leader;
          if (!l) throw missingLeaderKey();
          await sessionLease(store, big(l.lease), who);
          return resign(l.key, int(l.rev), who);
        })(),
      ),
    encode: (r) => ({ header: header(identity, r.revision) }),
  };

  const Leader: UnaryMethod<pb.LeaderRequest, LeaderResult, pb.LeaderResponse> = {
    run: async (m, _size, who) =>
      asUnknown(
        store.range(firstCreated(prefixOf(m.name)), who).then((r) => {
          if (r.kvs.length === 0) throw noLeader();
          return { revision: r.header.revision, kv: r.kvs[0] };
        }),
      ),
    encode: (r) => ({ header: header(identity, r.revision), kv: encodeKv(r.kv) }),
  };

  return { Campaign, Proclaim, Leader, Resign };
}
