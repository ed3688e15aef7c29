// Original file: proto/rpc.proto


export interface AuthRoleAddRequest {
  'name'?: (string);
}

export interface AuthRoleAddRequest__Output {
  'name': (string);
}
