import * as grpc from '@grpc/grpc-js';
import { expect } from 'vitest';

function isServiceError(e: unknown): e is grpc.ServiceError {
  return (
    e instanceof Error &&
    typeof (e as Partial<grpc.ServiceError>).code === 'number' &&
    typeof (e as Partial<grpc.ServiceError>).details === 'string'
  );
}

/**
 * Asserts that a call fails with exactly this gRPC status code and etcd message (the status
 * details, byte for byte). Returns the error for checks of its own; anything but a gRPC error is
 * rethrown, and a call that succeeds fails with what it answered.
 */
export async function expectGrpcError(call: Promise<unknown>, code: grpc.status, message: string): Promise<grpc.ServiceError> {
  let answer: unknown;
  try {
    answer = await call;
  } catch (e) {
    if (!isServiceError(e)) throw e;
    const show = (c: number, details: string) => ({ code: `${c} ${grpc.status[c] ?? '?'}`, details });
    expect(show(e.code, e.details)).toEqual(show(code, message));
    return e;
  }
  throw new Error(`expected ${grpc.status[code]} "${message}", but the call succeeded: ${JSON.stringify(answer)?.slice(0, 300)}`);
}
