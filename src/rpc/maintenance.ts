/**
 * etcd's Maintenance and Cluster methods, as one strata member answers them. With auth on, who may
 * call each is etcd 3.5.33's rule: Status, MemberList and Alarm GET any named user, the rest the
 * root role; the check runs after the fence, so it sees every instance's auth changes.
 */
import { Errors, EtcdError, unmappedAuthError } from '../errors';
import type { Credentials } from '../mvcc/auth/types';
import type { HashKVResult, HashResult } from '../mvcc/backup';
import type { Clearance } from '../mvcc/store';
import type { UnaryMethod } from './calls';
import { alarmLines, decodeAlarm, encodeAlarm, type AlarmResult } from './codec/alarm';
import {
  encodeDefragment,
  encodeHash,
  encodeHashKV,
  encodeMemberList,
  encodeStatus,
  type MemberInfo,
  type StatusResult,
} from './codec/maintenance';
import type { RpcContext } from './context';
import type * as pb from './messages';

/**
 * A method strata does not serve, answered UNIMPLEMENTED (naming what is missing) to callers etcd
 * would let through: `clearance` is who etcd lets call it with auth on.
 */
const missing = (ctx: RpcContext, what: string, clearance: Clearance, unmapped = false): UnaryMethod<unknown, never, never> => ({
  run: async (_m, _size, who) => {
    await (unmapped ? adminUnmapped(ctx, who) : ctx.store.authorize(who, clearance));
    throw Errors.unimplemented(what);
  },
  encode: (r) => r,
});

/** The admin check of Defragment, Snapshot, Hash and HashKV, whose errors etcd leaves unmapped (Unknown). */
export async function adminUnmapped(ctx: RpcContext, who: Credentials): Promise<void> {
  try {
    await ctx.store.authorize(who, 'admin');
  } catch (e) {
    throw e instanceof EtcdError ? unmappedAuthError(e) : e;
  }
}

export function maintenanceCalls(ctx: RpcContext) {
  const { store, identity } = ctx;
  const Status: UnaryMethod<unknown, StatusResult, pb.StatusResponse> = {
    run: async (_m, _size, who) => {
      await store.authorize(who, 'user');
      const db = await store.maintenance.dbSize();
      return { revision: store.revision, db, errors: alarmLines(store.maintenance.activeAlarms()) };
    },
    encode: (r) => encodeStatus(r, identity, ctx.version),
  };
  const Alarm: UnaryMethod<pb.AlarmRequest, AlarmResult, pb.AlarmResponse> = {
    run: async (m, _size, who) => {
      const req = decodeAlarm(m);
      await store.authorize(who, req.action === 'get' ? 'user' : 'admin');
      const alarms = await store.maintenance.alarm(req.action, req);
      return { revision: store.revision, alarms };
    },
    encode: (r) => encodeAlarm(r, identity),
  };
  const Defragment: UnaryMethod<unknown, void, pb.DefragmentResponse> = {
    run: async (_m, _size, who) => {
      await adminUnmapped(ctx, who);
      return store.maintenance.defragment();
    },
    encode: () => encodeDefragment(),
  };
  const HashKV: UnaryMethod<pb.HashKVRequest, HashKVResult, pb.HashKVResponse> = {
    run: async (m, _size, who) => {
      const revision = Number(m.revision);
      await adminUnmapped(ctx, who);
      return store.maintenance.hashKV(revision);
    },
    encode: (r) => encodeHashKV(r, identity),
  };
  const Hash: UnaryMethod<unknown, HashResult, pb.HashResponse> = {
    run: async (_m, _size, who) => {
      await adminUnmapped(ctx, who);
      return store.maintenance.hash();
    },
    encode: (r) => encodeHash(r, identity),
  };
  return {
    Status,
    Alarm,
    Defragment,
    Hash,
    HashKV,
    MoveLeader: missing(ctx, 'MoveLeader (strata has no raft leader)', 'admin'),
  };
}

export function clusterCalls(ctx: RpcContext) {
  const MemberList: UnaryMethod<unknown, MemberInfo, pb.MemberListResponse> = {
    run: async (_m, _size, who) => {
      await ctx.store.authorize(who, 'user');
      return { name: ctx.memberName, clientUrls: ctx.clientUrls, peerUrls: ctx.peerUrls };
    },
    encode: (r) => encodeMemberList(r, ctx.identity),
  };
  return {
    MemberList,
    MemberAdd: missing(ctx, 'MemberAdd (run more strata instances on one database instead)', 'admin'),
    MemberRemove: missing(ctx, 'MemberRemove', 'admin'),
    MemberUpdate: missing(ctx, 'MemberUpdate', 'admin'),
    MemberPromote: missing(ctx, 'MemberPromote', 'admin'),
  };
}
