// Original file: proto/rpc.proto

import type { ResponseHeader as _etcdserverpb_ResponseHeader, ResponseHeader__Output as _etcdserverpb_ResponseHeader__Output } from '../etcdserverpb/ResponseHeader';

export interface AuthUserGrantRoleResponse {
  'header'?: (_etcdserverpb_ResponseHeader | null);
}

export interface AuthUserGrantRoleResponse__Output {
  'header': (_etcdserverpb_ResponseHeader__Output | null);
}
