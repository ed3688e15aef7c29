// Original file: proto/rpc.proto


export interface AuthStatusRequest {
}

export interface AuthStatusRequest__Output {
}
