// Original file: proto/rpc.proto


export interface HashRequest {
}

export interface HashRequest__Output {
}
