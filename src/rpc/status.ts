/** The one place errors become wire errors: gRPC status (and, with the gateway, JSON bodies). */
import * as grpc from '@grpc/grpc-js';
import type { Logger } from 'pino';
import { Code, EtcdError } from '../errors';

export function toEtcdError(e: unknown, log: Logger): EtcdError {
  if (e instanceof EtcdError) return e;
  log.error({ err: e }, 'unexpected error');
  return new EtcdError(Code.Unknown, (e as Error)?.message ?? String(e));
}

export function toServiceError(e: unknown, log: Logger): Partial<grpc.ServiceError> {
  const err = toEtcdError(e, log);
  return { code: err.code as number as grpc.status, details: err.message, message: err.message };
}

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
