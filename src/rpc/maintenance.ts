/** etcd's Maintenance, Cluster and Auth services, as one strata member answers them. */
import type * as grpc from '@grpc/grpc-js';
import { Errors } from '../errors';
import { serviceFromCalls, type CallTable } from './calls';
import { header } from './codec';
import type { RpcContext } from './context';
import type { Wire } from './proto';
import { toServiceError } from './status';

/** A call that answers UNIMPLEMENTED, naming what is missing. */
const missing =
  (what: string) =>
  async (): Promise<Wire> => {
    throw Errors.unimplemented(what);
  };

const ALARM_GET = 0;
const ALARM_DEACTIVATE = 2;

export function maintenanceCalls(ctx: RpcContext): CallTable {
  const { store, identity } = ctx;
  const hdr = () => header(identity, { revision: store.revision });
  return {
    Status: async () => {
      const size = await store.dbSize();
      const rev = store.revision;
      return {
        header: hdr(),
        version: ctx.version,
        dbSize: size.size,
        leader: identity.member_id,
        // One member: the term never changes and every committed revision is applied.
        raftIndex: rev,
        raftTerm: identity.raft_term,
        raftAppliedIndex: rev,
        errors: [],
        dbSizeInUse: size.inUse,
        isLearner: false,
      };
    },
    Alarm: async (w: Wire) => {
      const action = Number(w.action ?? 0);
      // strata raises no alarms (there is no space quota), so the list is always empty.
      if (action !== ALARM_GET && action !== ALARM_DEACTIVATE) throw Errors.unimplemented('Alarm ACTIVATE');
      return { header: hdr(), alarms: [] };
    },
    // etcd answers an empty DefragmentResponse, without a header.
    Defragment: async () => (await store.defragment(), {}),
    Hash: missing('Hash'),
    HashKV: missing('HashKV'),
    MoveLeader: missing('MoveLeader (strata has no raft leader)'),
  };
}

export function clusterCalls(ctx: RpcContext): CallTable {
  return {
    MemberList: async () => ({
      // etcd's cluster server fills the header but never a revision.
      header: header(ctx.identity, { revision: 0 }),
      members: [{ ID: ctx.identity.member_id, name: ctx.memberName, peerURLs: [], clientURLs: ctx.clientUrls, isLearner: false }],
    }),
    MemberAdd: missing('MemberAdd (run more strata instances on one database instead)'),
    MemberRemove: missing('MemberRemove'),
    MemberUpdate: missing('MemberUpdate'),
    MemberPromote: missing('MemberPromote'),
  };
}

export function authCalls(ctx: RpcContext): CallTable {
  const out: CallTable = {
    // Auth is off, and these are etcd's answers while it is.
    Authenticate: async () => {
      throw Errors.authNotEnabled();
    },
    AuthDisable: async () => ({ header: header(ctx.identity, { revision: ctx.store.revision }) }),
  };
  for (const m of ['AuthEnable', 'UserAdd', 'UserGet', 'UserList', 'UserDelete', 'UserChangePassword', 'UserGrantRole',
    'UserRevokeRole', 'RoleAdd', 'RoleGet', 'RoleList', 'RoleDelete', 'RoleGrantPermission', 'RoleRevokePermission']) {
    out[m] = missing(`Auth ${m}`);
  }
  return out;
}

/** Snapshot is a server stream; strata has no snapshot to send. */
export const SNAPSHOT_UNIMPLEMENTED = 'Snapshot (back up the SQL database instead)';

export function maintenanceService(ctx: RpcContext): grpc.UntypedServiceImplementation {
  const Snapshot: grpc.handleServerStreamingCall<Wire, Wire> = (call) => {
    call.emit('error', toServiceError(Errors.unimplemented(SNAPSHOT_UNIMPLEMENTED), ctx.log));
  };
  return { ...serviceFromCalls(ctx, maintenanceCalls(ctx)), Snapshot };
}

export function clusterService(ctx: RpcContext): grpc.UntypedServiceImplementation {
  return serviceFromCalls(ctx, clusterCalls(ctx));
}

export function authService(ctx: RpcContext): grpc.UntypedServiceImplementation {
  return serviceFromCalls(ctx, authCalls(ctx));
}
