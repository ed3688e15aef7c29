// Original file: proto/rpc.proto


export interface WatchProgressRequest {
}

export interface WatchProgressRequest__Output {
}
