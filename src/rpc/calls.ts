/**
 * The shape every etcd service shares between its two front-ends: a table of unary calls over
 * wire objects (decode → validate → store → encode inside each call), and sinks for the streams.
 * The gRPC services wrap the tables; the JSON gateway maps JSON to the same wire objects.
 */
import type * as grpc from '@grpc/grpc-js';
import type { RpcContext } from './context';
import type { Wire } from './proto';
import { unary } from './status';

export type UnaryCall = (w: Wire) => Promise<Wire>;
export type CallTable = Record<string, UnaryCall>;

/** Where a server stream's messages go (a gRPC call, or a chunked HTTP response). */
export interface StreamSink {
  /** Sends one message; false when the transport's buffer is full (then wait for drained()). */
  write(w: Wire): boolean;
  /** Ends the stream normally. */
  end(): void;
  /** Ends the stream with an error. */
  error(e: unknown): void;
}

export function serviceFromCalls(ctx: RpcContext, calls: CallTable): grpc.UntypedServiceImplementation {
  const out: grpc.UntypedServiceImplementation = {};
  for (const [name, fn] of Object.entries(calls)) out[name] = unary<Wire, Wire>(ctx.log, fn);
  return out;
}
