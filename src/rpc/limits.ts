/** The request limits both front-ends enforce, defined once. */

export interface Limits {
  /** etcd's --max-request-bytes: a larger request is refused with `request is too large`. */
  maxRequestBytes: number;
  maxTxnOps: number;
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
