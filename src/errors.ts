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

/** The cancel reason of a watch create past --max-watches-per-stream (strata's bound). */
export const WATCH_LIMIT_REACHED = 'strata: too many watches on this stream (--max-watches-per-stream)';

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
  // strata's bounds (--max-streams); etcd has none, so the words are strata's.
  tooManyStreams: e(Code.ResourceExhausted, 'strata: too many open streams (--max-streams)'),
  duplicateKey: e(Code.InvalidArgument, 'etcdserver: duplicate key given in txn request'),
  invalidSortOption: e(Code.InvalidArgument, 'etcdserver: invalid sort option'),
  requestTooLarge: e(Code.InvalidArgument, 'etcdserver: request is too large'),
  compacted: e(Code.OutOfRange, 'etcdserver: mvcc: required revision has been compacted'),
  futureRev: e(Code.OutOfRange, 'etcdserver: mvcc: required revision is a future revision'),
  leaseNotFound: e(Code.NotFound, 'etcdserver: requested lease not found'),
  leaseExist: e(Code.FailedPrecondition, 'etcdserver: lease already exists'),
  leaseTTLTooLarge: e(Code.OutOfRange, 'etcdserver: too large lease TTL'),
  authNotEnabled: e(Code.FailedPrecondition, 'etcdserver: authentication is not enabled'),
  rootUserNotExist: e(Code.FailedPrecondition, 'etcdserver: root user does not exist'),
  rootRoleNotExist: e(Code.FailedPrecondition, 'etcdserver: root user does not have root role'),
  userAlreadyExist: e(Code.FailedPrecondition, 'etcdserver: user name already exists'),
  userEmpty: e(Code.InvalidArgument, 'etcdserver: user name is empty'),
  userNotFound: e(Code.FailedPrecondition, 'etcdserver: user name not found'),
  roleAlreadyExist: e(Code.FailedPrecondition, 'etcdserver: role name already exists'),
  roleNotFound: e(Code.FailedPrecondition, 'etcdserver: role name not found'),
  roleEmpty: e(Code.InvalidArgument, 'etcdserver: role name is empty'),
  authFailed: e(Code.InvalidArgument, 'etcdserver: authentication failed, invalid user ID or password'),
  permissionNotGiven: e(Code.InvalidArgument, 'etcdserver: permission not given'),
  permissionDenied: e(Code.PermissionDenied, 'etcdserver: permission denied'),
  roleNotGranted: e(Code.FailedPrecondition, 'etcdserver: role is not granted to the user'),
  permissionNotGranted: e(Code.FailedPrecondition, 'etcdserver: permission is not granted to the role'),
  invalidAuthToken: e(Code.Unauthenticated, 'etcdserver: invalid auth token'),
  invalidAuthMgmt: e(Code.InvalidArgument, 'etcdserver: invalid auth management'),
  authOldRevision: e(Code.InvalidArgument, 'etcdserver: revision of auth store is old'),
  /** etcd has no gRPC error for it, so it reaches clients as Unknown with the auth package's text. */
  noPasswordUser: e(Code.Unknown, 'auth: authentication failed, password was given for no password user'),
  tooManyRequests: e(Code.ResourceExhausted, 'etcdserver: too many requests'),
  /** Go's bcrypt error, which etcd passes on as Unknown. */
  passwordTooLong: e(Code.Unknown, 'bcrypt: password length exceeds 72 bytes'),
  authNameTooLong: (max: number): EtcdError =>
    new EtcdError(Code.InvalidArgument, `etcdserver: user or role name is too long (strata stores names of at most ${max} bytes)`),
  /** The space quota is used up, or the disk is full (the NOSPACE alarm is raised). */
  noSpace: e(Code.ResourceExhausted, 'etcdserver: mvcc: database space exceeded'),
  /** The CORRUPT alarm is raised: writes are refused. */
  corrupt: e(Code.DataLoss, 'etcdserver: corrupt cluster'),
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

/**
 * The auth package's own error for one of etcd's auth errors: etcd's Defragment, Hash and HashKV
 * return their admin check's error without the gRPC mapping, so clients get Unknown and this text.
 */
export function unmappedAuthError(err: EtcdError): EtcdError {
  const text = AUTH_PACKAGE_TEXT[err.message];
  return text ? new EtcdError(Code.Unknown, text) : err;
}

const AUTH_PACKAGE_TEXT: Record<string, string> = {
  'etcdserver: user name is empty': 'auth: user name is empty',
  'etcdserver: user name not found': 'auth: user not found',
  'etcdserver: permission denied': 'auth: permission denied',
  'etcdserver: invalid auth token': 'auth: invalid auth token',
};

/** How etcd's watch writes an auth error into cancel_reason: the whole gRPC status text. */
export function cancelReasonOf(err: EtcdError): string {
  return `rpc error: code = ${CODE_NAMES[err.code]} desc = ${err.message}`;
}

/** grpc-go's names of the codes, as its status text spells them. */
const CODE_NAMES: Record<Code, string> = {
  [Code.OK]: 'OK',
  [Code.Canceled]: 'Canceled',
  [Code.Unknown]: 'Unknown',
  [Code.InvalidArgument]: 'InvalidArgument',
  [Code.DeadlineExceeded]: 'DeadlineExceeded',
  [Code.NotFound]: 'NotFound',
  [Code.AlreadyExists]: 'AlreadyExists',
  [Code.PermissionDenied]: 'PermissionDenied',
  [Code.ResourceExhausted]: 'ResourceExhausted',
  [Code.FailedPrecondition]: 'FailedPrecondition',
  [Code.Aborted]: 'Aborted',
  [Code.OutOfRange]: 'OutOfRange',
  [Code.Unimplemented]: 'Unimplemented',
  [Code.Internal]: 'Internal',
  [Code.Unavailable]: 'Unavailable',
  [Code.DataLoss]: 'DataLoss',
  [Code.Unauthenticated]: 'Unauthenticated',
};

/** Errors that reach a stream's cancel_reason travel as their message. */
export const WATCH_DUPLICATE_ID = 'mvcc: duplicate watch ID provided on the WatchStream';
