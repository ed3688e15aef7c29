/** The request limits both front-ends enforce, defined once. */

export interface Limits {
  /** etcd's --max-request-bytes: a larger request is refused with `request is too large`. */
  maxRequestBytes: number;
  maxTxnOps: number;
  /** Resource bounds (docs/compatibility.md); 0 or absent means no bound, as in etcd. */
  bounds?: Bounds;
}

/** What one client may hold open: strata's bounds beside etcd's flags. */
export interface Bounds {
  /** Watch and keepalive streams open over all connections (--max-streams). */
  maxStreams: number;
  /** Watchers on one Watch stream (--max-watches-per-stream). */
  maxWatchesPerStream: number;
  /** A gateway request body (a stream's first message) must have arrived within this (--gateway-read-timeout). */
  gatewayReadTimeoutMs: number;
  /** HTTP/2 streams on one connection (etcd's --max-concurrent-streams). */
  maxConcurrentStreams: number;
  /** Ping a connection idle this long, close it if no answer within the timeout (etcd's --grpc-keepalive-*). */
  keepaliveIntervalMs: number;
  keepaliveTimeoutMs: number;
}

/** etcd allows receiving max-request-bytes plus this much, then checks the request itself. */
const RECEIVE_SLACK = 512 * 1024;

/** The largest message either transport accepts at all (grpc's max receive message length). */
export function receiveLimit(limits: Limits): number {
  return limits.maxRequestBytes + RECEIVE_SLACK;
}

/** JSON carries bytes as base64 (4/3) plus field names: twice the protobuf limit bounds any valid body. */
export function gatewayBodyLimit(limits: Limits): number {
  return 2 * receiveLimit(limits);
}
