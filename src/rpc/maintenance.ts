/** etcd's Maintenance, Cluster and Auth services, as one strata member answers them. */
import type * as grpc from '@grpc/grpc-js';
import { Errors } from '../errors';
import { header } from './codec';
import type { RpcContext } from './context';
import type { Wire } from './proto';
import { toServiceError, unary } from './status';

/** A handler that answers UNIMPLEMENTED, naming what is missing. */
function missing(ctx: RpcContext, what: string): grpc.handleUnaryCall<Wire, Wire> {
  return unary<Wire, Wire>(ctx.log, () => {
    throw Errors.unimplemented(what);
  });
}

const ALARM_GET = 0;
const ALARM_DEACTIVATE = 2;

export function maintenanceCalls(ctx: RpcContext) {
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
    MemberList: async () => ({
      // etcd's cluster server fills the header but never a revision.
      header: header(identity, { revision: 0 }),
      members: [{ ID: identity.member_id, name: ctx.memberName, peerURLs: [], clientURLs: ctx.clientUrls, isLearner: false }],
    }),
  };
}

export function maintenanceService(ctx: RpcContext): grpc.UntypedServiceImplementation {
  const calls = maintenanceCalls(ctx);
  const Snapshot: grpc.handleServerStreamingCall<Wire, Wire> = (call) => {
    call.emit('error', toServiceError(Errors.unimplemented('Snapshot (back up the SQL database instead)'), ctx.log));
  };
  return {
    Status: unary<Wire, Wire>(ctx.log, calls.Status),
    Alarm: unary<Wire, Wire>(ctx.log, calls.Alarm),
    // etcd answers an empty DefragmentResponse, without a header.
    Defragment: unary<Wire, Wire>(ctx.log, async () => (await ctx.store.defragment(), {})),
    Hash: missing(ctx, 'Hash'),
    HashKV: missing(ctx, 'HashKV'),
    MoveLeader: missing(ctx, 'MoveLeader (strata has no raft leader)'),
    Snapshot,
  };
}

export function clusterService(ctx: RpcContext): grpc.UntypedServiceImplementation {
  const calls = maintenanceCalls(ctx);
  return {
    MemberList: unary<Wire, Wire>(ctx.log, calls.MemberList),
    MemberAdd: missing(ctx, 'MemberAdd (run more strata instances on one database instead)'),
    MemberRemove: missing(ctx, 'MemberRemove'),
    MemberUpdate: missing(ctx, 'MemberUpdate'),
    MemberPromote: missing(ctx, 'MemberPromote'),
  };
}

export function authService(ctx: RpcContext): grpc.UntypedServiceImplementation {
  const out: grpc.UntypedServiceImplementation = {
    // Auth is off, and these are etcd's answers while it is.
    Authenticate: unary<Wire, Wire>(ctx.log, () => {
      throw Errors.authNotEnabled();
    }),
    AuthDisable: unary<Wire, Wire>(ctx.log, () => ({ header: header(ctx.identity, { revision: ctx.store.revision }) })),
  };
  for (const m of ['AuthEnable', 'UserAdd', 'UserGet', 'UserList', 'UserDelete', 'UserChangePassword', 'UserGrantRole',
    'UserRevokeRole', 'RoleAdd', 'RoleGet', 'RoleList', 'RoleDelete', 'RoleGrantPermission', 'RoleRevokePermission']) {
    out[m] = missing(ctx, `Auth ${m}`);
  }
  return out;
}
