/**
 * What an etcd method is to strata's two front-ends (the gRPC server and the JSON gateway). A unary
 * method runs a decoded request message, given with its protobuf size (etcd's request limit is
 * checked against it), to the store's result, and encodes that result as the response message; a
 * front-end then turns it into bytes (protobufjs, or a hand-written encoder straight from the
 * result) or JSON. A stream method opens a session: request messages in, results out to a sink.
 */
import type { Logger } from 'pino';
import { Errors, type EtcdError } from '../errors';
import type { Credentials } from '../mvcc/auth/types';
import type { RpcContext } from './context';

/**
 * A unary method gets the caller's credentials as the front-end read them (token or client
 * certificate); the store decides what they allow.
 */
export interface UnaryMethod<Req, Result, Res> {
  /**
   * A method that may wait for others (Lock, Campaign) says so with `waits`: the front-ends then give
   * it a `signal` that aborts when the caller goes away or the server stops (the hot calls go without).
   * `deadline` is when the caller stops waiting (Date.now() clock), where its transport says
   * (gRPC's grpc-timeout); a write is retried through transient failures until then.
   */
  run(req: Req, size: number, who: Credentials, signal?: AbortSignal, deadline?: number): Promise<Result>;
  waits?: boolean;
  encode(result: Result): Res;
}

/** A stream's credentials, read again for each request as etcd does (a simple token is renewed on use). */
export type Caller = () => Credentials | Promise<Credentials>;

/** Where a stream's results go (a gRPC call, or a chunked HTTP response). */
export interface StreamSink<Result> {
  /** Sends one result; false when the transport's buffer is full (then wait for drained()). */
  write(result: Result): boolean;
  /** Ends the stream normally. */
  end(): void;
  /** Ends the stream with an error. */
  error(e: unknown): void;
}

/** One open stream (Watch, LeaseKeepAlive), the same over both transports. */
export interface StreamSession<Req> {
  /** One request message. */
  handle(req: Req): void;
  /** The sink has room again after write() returned false. */
  drained(): void;
  /** The client sent its last request. */
  finish(): void;
  /** Ends the stream at once (client gone, shutdown). */
  close(): void;
}

export interface StreamMethod<Req, Result, Res> {
  open(sink: StreamSink<Result>, log: Logger, caller: Caller): StreamSession<Req>;
  encode(result: Result): Res;
}

/**
 * A service's methods as the front-ends walk them, by name. Each front-end pairs a method with the
 * decoder of its own request type (by the method's name in the proto), so the tables erase the
 * message types; the methods themselves are typed where they are written (method syntax keeps the
 * erased form assignable).
 */
export type UnaryTable = Record<string, UnaryMethod<unknown, unknown, object>>;
type StreamTable = Record<string, StreamMethod<unknown, unknown, object>>;

export interface ServiceMethods {
  unary: UnaryTable;
  streams: StreamTable;
}

/** What /metrics counts open streams by; a Lock or Campaign call that waits counts as one too. */
type StreamKind = 'watch' | 'keepalive' | 'lock' | 'election';

/** A new stream past --max-streams is refused before it opens (both front-ends ask). */
export function streamRefusal(ctx: RpcContext): EtcdError | undefined {
  const max = ctx.limits.bounds?.maxStreams ?? 0;
  return max > 0 && ctx.streams.size >= max ? Errors.tooManyStreams() : undefined;
}

/** A long-lived stream, registered so shutdown can end it and /metrics can count it. */
export class TrackedStream {
  private done = false;

  constructor(
    private readonly ctx: RpcContext,
    readonly kind: StreamKind,
    private readonly onEnd: () => void,
  ) {
    ctx.streams.add(this);
  }

  get ended(): boolean {
    return this.done;
  }

  /** Ends the stream once: unregisters it and runs onEnd. */
  end(): void {
    if (this.drop()) this.onEnd();
  }

  /** Unregisters without onEnd (the stream ended another way); false if it had ended already. */
  drop(): boolean {
    if (this.done) return false;
    this.done = true;
    this.ctx.streams.delete(this);
    return true;
  }
}
