/** etcd's Maintenance, Cluster and Auth methods, as one strata member answers them. */
import { Errors, type EtcdError } from '../errors';
import type { Header } from '../mvcc/types';
import type { UnaryMethod, UnaryTable } from './calls';
import {
  ALARM_DEACTIVATE,
  ALARM_GET,
  decodeAlarm,
  encodeAlarm,
  encodeAuthDisable,
  encodeDefragment,
  encodeMemberList,
  encodeStatus,
  type MemberInfo,
  type StatusResult,
} from './codec/maintenance';
import type { RpcContext } from './context';
import type * as pb from './messages';

/** A method that always fails with one error. */
const refused = (error: () => EtcdError): UnaryMethod<unknown, never, never> => ({
  run: async () => {
    throw error();
  },
  encode: (r) => r,
});

/** A method that answers UNIMPLEMENTED, naming what is missing. */
const missing = (what: string) => refused(() => Errors.unimplemented(what));

/** Snapshot is a server stream; strata has no snapshot to send. */
export const SNAPSHOT_UNIMPLEMENTED = 'Snapshot (back up the SQL database instead)';

export function maintenanceCalls(ctx: RpcContext) {
  const { store, identity } = ctx;
  const Status: UnaryMethod<unknown, StatusResult, pb.StatusResponse> = {
    run: async () => {
      const db = await store.dbSize();
      return { revision: store.revision, db };
    },
    encode: (r) => encodeStatus(r, identity, ctx.version),
  };
  const Alarm: UnaryMethod<pb.AlarmRequest, Header, pb.AlarmResponse> = {
    run: async (m) => {
      const { action } = decodeAlarm(m);
      if (action !== ALARM_GET && action !== ALARM_DEACTIVATE) throw Errors.unimplemented('Alarm ACTIVATE');
      return { revision: store.revision };
    },
    encode: (r) => encodeAlarm(r, identity),
  };
  const Defragment: UnaryMethod<unknown, void, pb.DefragmentResponse> = {
    run: async () => store.defragment(),
    encode: () => encodeDefragment(),
  };
  return {
    Status,
    Alarm,
    Defragment,
    Hash: missing('Hash'),
    HashKV: missing('HashKV'),
    MoveLeader: missing('MoveLeader (strata has no raft leader)'),
  };
}

export function clusterCalls(ctx: RpcContext) {
  const MemberList: UnaryMethod<unknown, MemberInfo, pb.MemberListResponse> = {
    run: async () => ({ name: ctx.memberName, clientUrls: ctx.clientUrls }),
    encode: (r) => encodeMemberList(r, ctx.identity),
  };
  return {
    MemberList,
    MemberAdd: missing('MemberAdd (run more strata instances on one database instead)'),
    MemberRemove: missing('MemberRemove'),
    MemberUpdate: missing('MemberUpdate'),
    MemberPromote: missing('MemberPromote'),
  };
}

export function authCalls(ctx: RpcContext): UnaryTable {
  const AuthDisable: UnaryMethod<unknown, Header, pb.AuthDisableResponse> = {
    run: async () => ({ revision: ctx.store.revision }),
    encode: (r) => encodeAuthDisable(r, ctx.identity),
  };
  const out: UnaryTable = {
    // Auth is off, and these are etcd's answers while it is.
    Authenticate: refused(Errors.authNotEnabled),
    AuthDisable,
  };
  for (const m of [
    'AuthEnable',
    'UserAdd',
    'UserGet',
    'UserList',
    'UserDelete',
    'UserChangePassword',
    'UserGrantRole',
    'UserRevokeRole',
    'RoleAdd',
    'RoleGet',
    'RoleList',
    'RoleDelete',
    'RoleGrantPermission',
    'RoleRevokePermission',
  ]) {
    out[m] = missing(`Auth ${m}`);
  }
  return out;
}
