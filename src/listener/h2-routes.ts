/**
 * The HTTP routes (gateway, /version, /health, /metrics) over HTTP/2 as well: etcd's Go server
 * dispatches each HTTP/2 request by content type, so a TLS client that agrees on h2 by ALPN (curl,
 * Go's net/http) reaches /version on the same connection gRPC uses. grpc-js owns the HTTP/2
 * session of an injected connection and answers 415 to anything not application/grpc; its
 * stream listener is wrapped so that non-gRPC streams go to node's HTTP/2 compatibility request
 * and response instead.
 */
import type * as grpc from '@grpc/grpc-js';
import type { IncomingMessage, ServerResponse } from 'node:http';
import * as http2 from 'node:http2';
import type { Logger } from 'pino';

type StreamListener = (stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders, flags: number, raw: string[]) => void;

/** Call right after createConnectionInjector; false (and a warning) when grpc-js's internals moved. */
export function routeHttpOverH2(
  grpcServer: grpc.Server,
  handler: (req: IncomingMessage, res: ServerResponse) => void,
  log: Logger,
): boolean {
  // Not part of grpc-js's API: the HTTP/2 servers it made, the injector's last.
  const servers = (grpcServer as unknown as { http2Servers?: unknown }).http2Servers;
  const h2 = servers instanceof Map ? ([...servers.keys()].at(-1) as http2.Http2Server | undefined) : undefined;
  if (!h2 || typeof h2.listeners !== 'function' || h2.listenerCount('stream') === 0) {
    log.warn('cannot reach grpc-js HTTP/2 server: HTTP routes are served over HTTP/1.1 only');
    return false;
  }
  const grpcListeners = h2.listeners('stream') as StreamListener[];
  h2.removeAllListeners('stream');
  h2.on('stream', (stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders, flags: number, raw: string[]) => {
    const type = headers['content-type'];
    if (typeof type === 'string' && type.startsWith('application/grpc')) {
      for (const l of grpcListeners) l.call(h2, stream, headers, flags, raw);
      return;
    }
    const req = new http2.Http2ServerRequest(stream, headers, {}, raw);
    const res = new http2.Http2ServerResponse(stream);
    handler(req as unknown as IncomingMessage, res as unknown as ServerResponse);
  });
  return true;
}
