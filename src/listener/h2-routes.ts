/**
 * The HTTP routes (gateway, /version, /health, /metrics) over HTTP/2 as well: etcd's Go server
 * dispatches each HTTP/2 request by content type, so a TLS client that agrees on h2 by ALPN (curl,
 * Go's net/http) reaches /version on the same connection gRPC uses. grpc-js owns the HTTP/2
 * session of an injected connection and answers 415 to anything not application/grpc; its
 * stream listener is wrapped so that non-gRPC streams go to node's HTTP/2 compatibility request
 * and response instead. It also shows grpc-js the TLS socket under a unix socket's :authority
 * rewrite (./h2-authority.ts), where client certificates are read.
 */
import type * as grpc from '@grpc/grpc-js';
import type { IncomingMessage, ServerResponse } from 'node:http';
import * as http2 from 'node:http2';
import type { Logger } from 'pino';
import { showTlsUnderRewrite } from './h2-authority';
import { injectedHttp2Server } from './injected-server';

type StreamListener = (stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders, flags: number, raw: string[]) => void;

/** Call right after createConnectionInjector; false (and a warning) when grpc-js's internals moved. */
export function routeHttpOverH2(
  grpcServer: grpc.Server,
  handler: (req: IncomingMessage, res: ServerResponse) => void,
  log: Logger,
): boolean {
  const h2 = injectedHttp2Server(grpcServer);
  if (!h2 || h2.listenerCount('stream') === 0) {
    log.warn('cannot reach grpc-js HTTP/2 server: HTTP routes are served over HTTP/1.1 only');
    return false;
  }
  h2.on('session', showTlsUnderRewrite);
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
