// Original file: proto/rpc.proto


export interface AuthUserListRequest {
}

export interface AuthUserListRequest__Output {
}
