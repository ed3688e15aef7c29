/**
 * etcd's errors as values. Messages are byte-identical to etcd's (api/v3rpc/rpctypes): Go clients
 * recognise errors by their text. The wire mapping (gRPC status, gateway JSON) lives in rpc/status.ts.
 */

/** gRPC status codes, numbered as on the wire; kept here so mvcc needs no gRPC import. */
export enum Code {
  OK = 0,
  Canceled = 1,
  Unknown = 2,
  InvalidArgument = 3,
  DeadlineExceeded = 4,
  NotFound = 5,
  AlreadyExists = 6,
  PermissionDenied = 7,
  ResourceExhausted = 8,
  FailedPrecondition = 9,
  Aborted = 10,
  OutOfRange = 11,
  Unimplemented = 12,
  Internal = 13,
  Unavailable = 14,
  DataLoss = 15,
  Unauthenticated = 16,
}

export class EtcdError extends Error {
  constructor(
    readonly code: Code,
    message: string,
  ) {
    super(message);
    this.name = 'EtcdError';
  }
}

const e = (code: Code, message: string) => (): EtcdError => new EtcdError(code, message);

export const Errors = {
  emptyKey: e(Code.InvalidArgument, 'etcdserver: key is not provided'),
  keyNotFound: e(Code.InvalidArgument, 'etcdserver: key not found'),
  valueProvided: e(Code.InvalidArgument, 'etcdserver: value is provided'),
  leaseProvided: e(Code.InvalidArgument, 'etcdserver: lease is provided'),
  tooManyOps: e(Code.InvalidArgument, 'etcdserver: too many operations in txn request'),
  duplicateKey: e(Code.InvalidArgument, 'etcdserver: duplicate key given in txn request'),
  invalidSortOption: e(Code.InvalidArgument, 'etcdserver: invalid sort option'),
  requestTooLarge: e(Code.InvalidArgument, 'etcdserver: request is too large'),
  compacted: e(Code.OutOfRange, 'etcdserver: mvcc: required revision has been compacted'),
  futureRev: e(Code.OutOfRange, 'etcdserver: mvcc: required revision is a future revision'),
  leaseNotFound: e(Code.NotFound, 'etcdserver: requested lease not found'),
  leaseExist: e(Code.FailedPrecondition, 'etcdserver: lease already exists'),
  leaseTTLTooLarge: e(Code.OutOfRange, 'etcdserver: too large lease TTL'),
  authNotEnabled: e(Code.FailedPrecondition, 'etcdserver: authentication is not enabled'),
  stopped: e(Code.Unavailable, 'etcdserver: server stopped'),
  timeout: e(Code.Unavailable, 'etcdserver: request timed out'),
  keyTooLong: (max: number): EtcdError =>
    new EtcdError(Code.InvalidArgument, `etcdserver: key is too long (strata stores keys of at most ${max} bytes)`),
  /** A part of the etcd API strata does not serve; the message names it. */
  unimplemented: (what: string): EtcdError => new EtcdError(Code.Unimplemented, `${what} is not implemented by strata`),
  /** A gateway request body that is not the JSON of its message (the text says what is wrong). */
  badRequest: (message: string): EtcdError => new EtcdError(Code.InvalidArgument, message),
  /** A request larger than the server accepts at all (grpc's receive limit). */
  messageTooLarge: (size: number, max: number): EtcdError =>
    new EtcdError(Code.ResourceExhausted, `grpc: received message larger than max (${size} vs. ${max})`),
  /** A storage failure that is not the client's fault. */
  internal: (message: string): EtcdError => new EtcdError(Code.Unavailable, `etcdserver: ${message}`),
} as const;

/** Errors that reach a stream's cancel_reason travel as their message. */
export const WATCH_DUPLICATE_ID = 'mvcc: duplicate watch ID provided on the WatchStream';
