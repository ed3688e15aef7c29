/**
 * The HTTP/2 server grpc-js makes behind a connection injector. Not part of grpc-js's API (its
 * `http2Servers` map, the injector's entry last), so the shape is checked where it is read.
 */
import type * as grpc from '@grpc/grpc-js';
import type * as http2 from 'node:http2';

export function injectedHttp2Server(server: grpc.Server): http2.Http2Server | undefined {
  const servers = (server as unknown as { http2Servers?: unknown }).http2Servers;
  const last = servers instanceof Map ? ([...servers.keys()].at(-1) as unknown) : undefined;
  const h2 = last as http2.Http2Server | undefined;
  return h2 && typeof h2.prependListener === 'function' && typeof h2.listeners === 'function' ? h2 : undefined;
}
