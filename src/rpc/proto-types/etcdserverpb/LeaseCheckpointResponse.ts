// Original file: proto/rpc.proto

import type { ResponseHeader as _etcdserverpb_ResponseHeader, ResponseHeader__Output as _etcdserverpb_ResponseHeader__Output } from '../etcdserverpb/ResponseHeader';

export interface LeaseCheckpointResponse {
  'header'?: (_etcdserverpb_ResponseHeader | null);
}

export interface LeaseCheckpointResponse__Output {
  'header': (_etcdserverpb_ResponseHeader__Output | null);
}
