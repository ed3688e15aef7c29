/**
 * nghttp2, under node:http2, ends a connection with GOAWAY INTERNAL_ERROR once its client has
 * reset more streams than a token bucket allows (1,000 at once, then 33 a second): its guard
 * against HTTP/2 "rapid reset" floods. Every call in flight on that connection fails with it. A
 * client that cancels many streams on one shared connection (watch streams dropped, unary calls
 * timed out) reaches that in normal use; etcd's Go server has no such cut-off. Node 22.10 made the
 * bucket an option (streamResetBurst, streamResetRate) and strata widens it there; older node
 * keeps nghttp2's numbers, and start-up says so.
 */
import type * as grpc from '@grpc/grpc-js';

/** Resets one connection may send at once, and per second after that: a client has to reset
 * streams far faster than any etcd client does before its connection is ended. */
export const STREAM_RESET_BURST = 10_000;
export const STREAM_RESET_RATE = 10_000;

export function streamResetLimitSettable(nodeVersion: string = process.versions.node): boolean {
  const [major, minor] = nodeVersion.split('.').map(Number);
  return major > 22 || (major === 22 && minor >= 10);
}

/**
 * Widens the limit for the HTTP/2 servers `server` makes from now on (the connection injector's);
 * false when node cannot take the option. grpc-js builds those servers from its
 * `commonServerOptions`, which it does not expose: a grpc-js that moved it fails start-up.
 */
export function widenStreamResetLimit(server: grpc.Server, nodeVersion: string = process.versions.node): boolean {
  if (!streamResetLimitSettable(nodeVersion)) return false;
  const options = (server as unknown as { commonServerOptions?: unknown }).commonServerOptions;
  if (typeof options !== 'object' || options === null)
    throw new Error('grpc-js: no commonServerOptions to set the HTTP/2 stream reset limit on');
  Object.assign(options, { streamResetBurst: STREAM_RESET_BURST, streamResetRate: STREAM_RESET_RATE });
  return true;
}
