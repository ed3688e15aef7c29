/**
 * etcd's messages as strata's rpc layer handles them, from the types proto-loader's generator wrote
 * into proto-types/ (`npm run gen:proto-types`). A request is the `__Output` shape proto-loader
 * decodes with our options (keepCase, longs: String, defaults, oneofs: int64 as decimal strings,
 * enums as numbers, bytes as Buffers, the oneof's virtual field naming the set member); the JSON
 * gateway produces the same shape. A response is the shape protobufjs encodes from (int64 as number
 * or string), which the gateway's converter also reads.
 */
export type { ResponseHeader } from './proto-types/etcdserverpb/ResponseHeader';
export type { KeyValue } from './proto-types/mvccpb/KeyValue';
export type { Event } from './proto-types/mvccpb/Event';

export type { RangeRequest__Output as RangeRequest } from './proto-types/etcdserverpb/RangeRequest';
export type { RangeResponse } from './proto-types/etcdserverpb/RangeResponse';
export type { PutRequest__Output as PutRequest } from './proto-types/etcdserverpb/PutRequest';
export type { PutResponse } from './proto-types/etcdserverpb/PutResponse';
export type { DeleteRangeRequest__Output as DeleteRangeRequest } from './proto-types/etcdserverpb/DeleteRangeRequest';
export type { DeleteRangeResponse } from './proto-types/etcdserverpb/DeleteRangeResponse';
export type { Compare__Output as Compare } from './proto-types/etcdserverpb/Compare';
export type { RequestOp__Output as RequestOp } from './proto-types/etcdserverpb/RequestOp';
export type { ResponseOp } from './proto-types/etcdserverpb/ResponseOp';
export type { TxnRequest__Output as TxnRequest } from './proto-types/etcdserverpb/TxnRequest';
export type { TxnResponse } from './proto-types/etcdserverpb/TxnResponse';
export type { CompactionRequest__Output as CompactionRequest } from './proto-types/etcdserverpb/CompactionRequest';
export type { CompactionResponse } from './proto-types/etcdserverpb/CompactionResponse';

export type { WatchRequest__Output as WatchRequest } from './proto-types/etcdserverpb/WatchRequest';
export type { WatchCreateRequest__Output as WatchCreateRequest } from './proto-types/etcdserverpb/WatchCreateRequest';
export type { WatchResponse } from './proto-types/etcdserverpb/WatchResponse';

export type { LeaseGrantRequest__Output as LeaseGrantRequest } from './proto-types/etcdserverpb/LeaseGrantRequest';
export type { LeaseGrantResponse } from './proto-types/etcdserverpb/LeaseGrantResponse';
export type { LeaseRevokeRequest__Output as LeaseRevokeRequest } from './proto-types/etcdserverpb/LeaseRevokeRequest';
export type { LeaseRevokeResponse } from './proto-types/etcdserverpb/LeaseRevokeResponse';
export type { LeaseKeepAliveRequest__Output as LeaseKeepAliveRequest } from './proto-types/etcdserverpb/LeaseKeepAliveRequest';
export type { LeaseKeepAliveResponse } from './proto-types/etcdserverpb/LeaseKeepAliveResponse';
export type { LeaseTimeToLiveRequest__Output as LeaseTimeToLiveRequest } from './proto-types/etcdserverpb/LeaseTimeToLiveRequest';
export type { LeaseTimeToLiveResponse } from './proto-types/etcdserverpb/LeaseTimeToLiveResponse';
export type { LeaseLeasesResponse } from './proto-types/etcdserverpb/LeaseLeasesResponse';

export type { AlarmRequest__Output as AlarmRequest } from './proto-types/etcdserverpb/AlarmRequest';
export type { AlarmResponse } from './proto-types/etcdserverpb/AlarmResponse';
export type { StatusResponse } from './proto-types/etcdserverpb/StatusResponse';
export type { DefragmentResponse } from './proto-types/etcdserverpb/DefragmentResponse';
export type { HashKVRequest__Output as HashKVRequest } from './proto-types/etcdserverpb/HashKVRequest';
export type { HashKVResponse } from './proto-types/etcdserverpb/HashKVResponse';
export type { HashResponse } from './proto-types/etcdserverpb/HashResponse';
export type { SnapshotResponse } from './proto-types/etcdserverpb/SnapshotResponse';
export type { MemberListResponse } from './proto-types/etcdserverpb/MemberListResponse';
export type { AuthEnableResponse } from './proto-types/etcdserverpb/AuthEnableResponse';
export type { AuthDisableResponse } from './proto-types/etcdserverpb/AuthDisableResponse';
export type { AuthStatusResponse } from './proto-types/etcdserverpb/AuthStatusResponse';
export type { AuthenticateRequest__Output as AuthenticateRequest } from './proto-types/etcdserverpb/AuthenticateRequest';
export type { AuthenticateResponse } from './proto-types/etcdserverpb/AuthenticateResponse';
export type { AuthUserAddRequest__Output as AuthUserAddRequest } from './proto-types/etcdserverpb/AuthUserAddRequest';
export type { AuthUserGetRequest__Output as AuthUserGetRequest } from './proto-types/etcdserverpb/AuthUserGetRequest';
export type { AuthUserGetResponse } from './proto-types/etcdserverpb/AuthUserGetResponse';
export type { AuthUserDeleteRequest__Output as AuthUserDeleteRequest } from './proto-types/etcdserverpb/AuthUserDeleteRequest';
export type { AuthUserChangePasswordRequest__Output as AuthUserChangePasswordRequest } from './proto-types/etcdserverpb/AuthUserChangePasswordRequest';
export type { AuthUserGrantRoleRequest__Output as AuthUserGrantRoleRequest } from './proto-types/etcdserverpb/AuthUserGrantRoleRequest';
export type { AuthUserRevokeRoleRequest__Output as AuthUserRevokeRoleRequest } from './proto-types/etcdserverpb/AuthUserRevokeRoleRequest';
export type { AuthUserListResponse } from './proto-types/etcdserverpb/AuthUserListResponse';
export type { AuthRoleAddRequest__Output as AuthRoleAddRequest } from './proto-types/etcdserverpb/AuthRoleAddRequest';
export type { AuthRoleGetRequest__Output as AuthRoleGetRequest } from './proto-types/etcdserverpb/AuthRoleGetRequest';
export type { AuthRoleGetResponse } from './proto-types/etcdserverpb/AuthRoleGetResponse';
export type { AuthRoleListResponse } from './proto-types/etcdserverpb/AuthRoleListResponse';
export type { AuthRoleDeleteRequest__Output as AuthRoleDeleteRequest } from './proto-types/etcdserverpb/AuthRoleDeleteRequest';
export type { AuthRoleGrantPermissionRequest__Output as AuthRoleGrantPermissionRequest } from './proto-types/etcdserverpb/AuthRoleGrantPermissionRequest';
export type { AuthRoleRevokePermissionRequest__Output as AuthRoleRevokePermissionRequest } from './proto-types/etcdserverpb/AuthRoleRevokePermissionRequest';

export type { LockRequest__Output as LockRequest } from './proto-types/v3lockpb/LockRequest';
export type { LockResponse } from './proto-types/v3lockpb/LockResponse';
export type { UnlockRequest__Output as UnlockRequest } from './proto-types/v3lockpb/UnlockRequest';
export type { UnlockResponse } from './proto-types/v3lockpb/UnlockResponse';

export type { LeaderKey__Output as LeaderKey } from './proto-types/v3electionpb/LeaderKey';
export type { CampaignRequest__Output as CampaignRequest } from './proto-types/v3electionpb/CampaignRequest';
export type { CampaignResponse } from './proto-types/v3electionpb/CampaignResponse';
export type { ProclaimRequest__Output as ProclaimRequest } from './proto-types/v3electionpb/ProclaimRequest';
export type { ProclaimResponse } from './proto-types/v3electionpb/ProclaimResponse';
export type { LeaderRequest__Output as LeaderRequest } from './proto-types/v3electionpb/LeaderRequest';
export type { LeaderResponse } from './proto-types/v3electionpb/LeaderResponse';
export type { ResignRequest__Output as ResignRequest } from './proto-types/v3electionpb/ResignRequest';
export type { ResignResponse } from './proto-types/v3electionpb/ResignResponse';
