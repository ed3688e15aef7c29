/**
 * One etcd service as grpc-js serves it: proto-loader's method definitions with the request
 * deserializer yielding the message and its size, and the response serializer encoding the
 * method's result (a hand-written encoder where one is given, else the codec and protobufjs).
 */
import type * as grpc from '@grpc/grpc-js';
import { Errors, type EtcdError } from '../errors';
import { presentedByGrpc } from './auth/presented';
import { credentialsOf } from './auth/tokens';
import { streamRefusal, type Caller, type ServiceMethods, type StreamMethod, type UnaryMethod } from './calls';
import type { RpcContext } from './context';
import { toServiceError, unary } from './status';

/** A decoded request with the size of its protobuf encoding. */
interface Sized<T> {
  message: T;
  size: number;
  /** Set when decoding failed in a way etcd answers with one of its errors: the call answers it. */
  refused?: EtcdError;
}

/** Bytes straight from a method's result; method syntax keeps typed encoders assignable. */
export interface ResultSerializer {
  serialize(result: unknown): Buffer;
}

interface GrpcService {
  definition: grpc.ServiceDefinition;
  implementation: grpc.UntypedServiceImplementation;
}

type Definition = grpc.MethodDefinition<unknown, unknown>;

export function grpcService(
  ctx: RpcContext,
  proto: grpc.ServiceDefinition,
  methods: ServiceMethods,
  hot: Record<string, ResultSerializer> = {},
): GrpcService {
  const definition: Record<string, Definition> = {};
  const implementation: grpc.UntypedServiceImplementation = {};
  for (const [name, def] of Object.entries(proto) as Array<[string, Definition]>) {
    const u = methods.unary[name];
    const s = methods.streams[name];
    const method = u ?? s;
    if (!method) {
      definition[name] = def;
      continue;
    }
    const fast = hot[name];
    definition[name] = {
      ...def,
      requestDeserialize: (buf: Buffer): Sized<unknown> => deserialize(def, name, buf),
      responseSerialize: fast ? (r: unknown) => fast.serialize(r) : (r: unknown) => def.responseSerialize(method.encode(r)),
    };
    implementation[name] = u ? unaryHandler(ctx, u) : def.requestStream ? streamHandler(ctx, s, name) : serverStreamHandler(ctx, s, name);
  }
  return { definition, implementation };
}

/**
 * Protobuf decoding stops at PROTO_RECURSION_LIMIT (proto.ts), beyond any nesting validation
 * accepts: a Txn that deep is past etcd's op limit, and etcd (which decodes it) answers so.
 */
function deserialize(def: Definition, name: string, buf: Buffer): Sized<unknown> {
  try {
    return { message: def.requestDeserialize(buf), size: buf.length };
  } catch (e) {
    if (name === 'Txn' && (e as Error).message === 'maximum nesting depth exceeded') {
      return { message: undefined, size: buf.length, refused: Errors.tooManyOps() };
    }
    throw e;
  }
}

/** The caller of a gRPC call, read from its metadata and connection each time it is asked. */
function callerOf(ctx: RpcContext, call: Parameters<typeof presentedByGrpc>[0]): Caller {
  return () => credentialsOf(presentedByGrpc(call), ctx.auth.tokens, ctx.auth.clientCertAuth);
}

function unaryHandler(ctx: RpcContext, m: UnaryMethod<unknown, unknown, object>): grpc.handleUnaryCall<Sized<unknown>, unknown> {
  return unary(ctx.log, (req: Sized<unknown>, call) => {
    if (req.refused) throw req.refused;
    const signal = m.waits ? cancelSignal(call) : undefined;
    const deadline = deadlineOf(call);
    const who = callerOf(ctx, call)();
    return who instanceof Promise
      ? who.then((w) => m.run(req.message, req.size, w, signal, deadline))
      : m.run(req.message, req.size, who, signal, deadline);
  });
}

/** The call's deadline (grpc-timeout) on the Date.now() clock; undefined when the client set none. */
function deadlineOf(call: grpc.ServerUnaryCall<unknown, unknown>): number | undefined {
  const d = call.getDeadline();
  const ms = d instanceof Date ? d.getTime() : d;
  return Number.isFinite(ms) ? ms : undefined;
}

/** Aborts when the client cancels the call or goes away. */
function cancelSignal(call: grpc.ServerUnaryCall<unknown, unknown>): AbortSignal {
  const ac = new AbortController();
  call.on('cancelled', () => ac.abort());
  return ac.signal;
}

/** A server stream (Election.Observe): its one request, then results until either side ends it. */
function serverStreamHandler(
  ctx: RpcContext,
  m: StreamMethod<unknown, unknown, object>,
  name: string,
): grpc.handleServerStreamingCall<Sized<unknown>, unknown> {
  return (call) => {
    const session = openSession(ctx, m, name, call);
    call.on('drain', () => session.drained());
    closeOnEnd(call, session);
    session.handle(call.request.message);
  };
}

/** The session ends with the call, however it ends. */
function closeOnEnd(call: NodeJS.EventEmitter, session: { close(): void }): void {
  for (const event of ['error', 'cancelled', 'close']) call.on(event, () => session.close());
}

/** A stream method's session over a gRPC call (server stream or bidi). */
function openSession(
  ctx: RpcContext,
  m: StreamMethod<unknown, unknown, object>,
  name: string,
  call: grpc.ServerWritableStream<Sized<unknown>, unknown> | grpc.ServerDuplexStream<Sized<unknown>, unknown>,
) {
  const log = ctx.log.child({ component: `${name.toLowerCase()}-stream`, peer: call.getPeer() });
  return m.open(
    {
      write: (r) => call.write(r),
      end: () => call.end(),
      error: (e) => call.emit('error', toServiceError(e, ctx.log)),
    },
    log,
    callerOf(ctx, call),
  );
}

function streamHandler(
  ctx: RpcContext,
  m: StreamMethod<unknown, unknown, object>,
  name: string,
): grpc.handleBidiStreamingCall<Sized<unknown>, unknown> {
  return (call) => {
    const refused = streamRefusal(ctx);
    if (refused) return void call.emit('error', toServiceError(refused, ctx.log));
    const session = openSession(ctx, m, name, call);
    call.on('data', (req: Sized<unknown>) => session.handle(req.message));
    call.on('drain', () => session.drained());
    call.on('end', () => session.finish());
    closeOnEnd(call, session);
    // A stream cancelled before its handler ran (refused framing, an instant reset) emits nothing more.
    if (call.cancelled || call.destroyed) session.close();
  };
}
