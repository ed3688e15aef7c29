/** The gRPC server with every etcd service registered, the hot responses on hand-written encoders. */
import * as grpc from '@grpc/grpc-js';
import type { RpcContext } from './context';
import { fastEncoders } from './fast-encode';
import { sendFramedMessages } from './framed-message';
import { grpcService, type ResultSerializer } from './grpc-service';
import { receiveLimit } from './limits';
import { presentedByGrpc } from './auth/presented';
import { credentialsOf } from './auth/tokens';
import { pumpSnapshot, snapshotCall } from './snapshot';
import { SERVICE_NAMES, serviceDefinition, type ServiceName } from './proto';
import { serviceMethods } from './services';
import { toServiceError } from './status';

export function createGrpcServer(ctx: RpcContext, interceptors: grpc.ServerInterceptor[] = []): grpc.Server {
  const server = new grpc.Server({
    interceptors,
    'grpc.max_receive_message_length': receiveLimit(ctx.limits),
    'grpc.max_send_message_length': -1,
    ...http2Bounds(ctx),
    // Nothing serves channelz; left on, grpc-js tracks every call and message for it (closures and
    // clock reads per call on the unary path).
    'grpc.enable_channelz': 0,
    // No ping policy to set: grpc-js servers answer every client keepalive ping, so
    // kube-apiserver's 30 s pings never earn a GOAWAY (etcd allows one every 5 s).
  });
  sendFramedMessages(ctx.log);
  const fast = fastEncoders(ctx.identity);
  const hot: Partial<Record<ServiceName, Record<string, ResultSerializer>>> = {
    KV: { Range: { serialize: fast.range }, Put: { serialize: fast.put } },
    Watch: { Watch: { serialize: fast.watch } },
  };
  const methods = serviceMethods(ctx);
  for (const name of SERVICE_NAMES) {
    const { definition, implementation } = grpcService(ctx, serviceDefinition(name), methods[name], hot[name]);
    if (name === 'Maintenance') implementation.Snapshot = snapshot(ctx);
    server.addService(definition, implementation);
  }
  if (ctx.writerService) server.addService(ctx.writerService.definition, ctx.writerService.implementation);
  return server;
}

/** Snapshot is a server stream: the db's chunks at the pace the client takes them. */
function snapshot(ctx: RpcContext): grpc.handleServerStreamingCall<unknown, unknown> {
  const open = snapshotCall(ctx);
  return (call) => {
    let gone = false;
    call.on('cancelled', () => (gone = true));
    call.on('close', () => (gone = true));
    void (async () => {
      const who = await credentialsOf(presentedByGrpc(call), ctx.auth.tokens, ctx.auth.clientCertAuth);
      await pumpSnapshot(open(who), {
        write: (m) => call.write(m),
        drained: () =>
          new Promise<void>((resolve) => {
            const done = () => {
              call.off('drain', done);
              call.off('close', done);
              resolve();
            };
            call.on('drain', done);
            call.on('close', done);
          }),
        gone: () => gone || call.cancelled,
      });
      if (!gone) call.end();
    })().catch((e: unknown) => {
      if (!gone) call.emit('error', toServiceError(e, ctx.log));
    });
  };
}

/** etcd's --max-concurrent-streams and --grpc-keepalive-interval/-timeout as grpc-js options. */
function http2Bounds(ctx: RpcContext): grpc.ServerOptions {
  const b = ctx.limits.bounds;
  if (!b) return {};
  return {
    ...(b.maxConcurrentStreams > 0 ? { 'grpc.max_concurrent_streams': b.maxConcurrentStreams } : {}),
    ...(b.keepaliveIntervalMs > 0
      ? { 'grpc.keepalive_time_ms': b.keepaliveIntervalMs, 'grpc.keepalive_timeout_ms': b.keepaliveTimeoutMs }
      : {}),
  };
}
