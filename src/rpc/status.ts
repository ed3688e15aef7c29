/** The one place errors become wire errors: gRPC status (and, with the gateway, JSON bodies). */
import * as grpc from '@grpc/grpc-js';
import type { Logger } from 'pino';
import { Code, EtcdError } from '../errors';

function toEtcdError(e: unknown, log: Logger): EtcdError {
  if (e instanceof EtcdError) return e;
  log.error({ err: e }, 'unexpected error');
  return new EtcdError(Code.Unknown, (e as Error)?.message ?? String(e));
}

export function toServiceError(e: unknown, log: Logger): Partial<grpc.ServiceError> {
  const err = toEtcdError(e, log);
  return { code: err.code as number as grpc.status, details: err.message, message: err.message };
}

/**
 * gRPC code → HTTP status, as the grpc-gateway runtime of etcd 3.5 (v1.16) maps it. FailedPrecondition
 * is 400 there; Debian's etcd 3.4 build links an older gateway that answered 412.
 */
const HTTP_STATUS: Record<Code, number> = {
  [Code.OK]: 200,
  [Code.Canceled]: 408,
  [Code.Unknown]: 500,
  [Code.InvalidArgument]: 400,
  [Code.DeadlineExceeded]: 504,
  [Code.NotFound]: 404,
  [Code.AlreadyExists]: 409,
  [Code.PermissionDenied]: 403,
  [Code.ResourceExhausted]: 429,
  [Code.FailedPrecondition]: 400,
  [Code.Aborted]: 409,
  [Code.OutOfRange]: 400,
  [Code.Unimplemented]: 501,
  [Code.Internal]: 500,
  [Code.Unavailable]: 503,
  [Code.DataLoss]: 500,
  [Code.Unauthenticated]: 401,
};

function httpStatusFromCode(code: Code): number {
  return HTTP_STATUS[code] ?? 500;
}

/** A unary gateway error body: `{"error","message","code"}` in the gateway's field order. */
interface GatewayErrorBody {
  error: string;
  message: string;
  code: Code;
}

/** A unary gateway error: the HTTP status and the body. */
export function toGatewayError(e: unknown, log: Logger): { status: number; body: GatewayErrorBody } {
  const err = toEtcdError(e, log);
  return { status: httpStatusFromCode(err.code), body: { error: err.message, message: err.message, code: err.code } };
}

/**
 * A gateway stream whose first request cannot be read fails as a unary error would. Reading the
 * body is not a gRPC call in etcd's gateway, so its errors surface as Unknown; errors that are
 * statuses of their own (a message over the receive limit) keep their code.
 */
export function toGatewayStreamRequestError(e: unknown, log: Logger): { status: number; body: GatewayErrorBody } {
  const err =
    e instanceof EtcdError && e.code !== Code.InvalidArgument ? e : new EtcdError(Code.Unknown, e instanceof Error ? e.message : String(e));
  return toGatewayError(err, log);
}

/** grpc-gateway's runtime.StreamError, in its field order, zero fields left out. */
interface GatewayStreamErrorBody {
  grpc_code?: Code;
  http_code: number;
  message?: string;
  http_status: string;
}

/** A gateway stream error line's payload. */
export function toGatewayStreamError(e: unknown, log: Logger): { status: number; body: GatewayStreamErrorBody } {
  const err = toEtcdError(e, log);
  const status = httpStatusFromCode(err.code);
  const body: GatewayStreamErrorBody = {
    ...(err.code !== Code.OK ? { grpc_code: err.code } : {}),
    http_code: status,
    ...(err.message ? { message: err.message } : {}),
    http_status: STATUS_TEXT[status] ?? '',
  };
  return { status, body };
}

const STATUS_TEXT: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  408: 'Request Timeout',
  409: 'Conflict',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  501: 'Not Implemented',
  503: 'Service Unavailable',
  504: 'Gateway Timeout',
};

/** Wraps a promise-returning handler as a grpc-js unary handler. */
export function unary<Req, Res>(
  log: Logger,
  fn: (req: Req, call: grpc.ServerUnaryCall<Req, Res>) => Promise<Res> | Res,
): grpc.handleUnaryCall<Req, Res> {
  return (call, callback) => {
    let out: Promise<Res>;
    try {
      out = Promise.resolve(fn(call.request, call));
    } catch (e) {
      out = Promise.reject(e);
    }
    out.then(
      (res) => callback(null, res),
      (e: unknown) => callback(toServiceError(e, log) as grpc.ServiceError),
    );
  };
}
