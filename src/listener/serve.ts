/**
 * The serving side of an app: one listener, the gRPC server fed injected HTTP/2 connections, a
 * node:http server fed HTTP/1.1 ones, and an orderly stop that drains both.
 */
import * as grpc from '@grpc/grpc-js';
import * as http from 'node:http';
import { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { Logger } from 'pino';
import type { ListenUrl } from '../config';
import { guardInjectedConnections } from './grpc-frames';
import { connectionOf } from './h2-authority';
import { routeHttpOverH2 } from './h2-routes';
import { httpHandler, type HttpRoutes } from './http';
import { widenStreamResetLimit } from './stream-resets';
import { Listener } from './listener';
import type { ServerTlsEngine } from './tls';

/** Where one listener ended up: its URL with the port bound (for :0) and whether it is TLS. */
export interface BoundUrl {
  /** host:port or unix://path. */
  address: string;
  tls: boolean;
  /** e.g. https://127.0.0.1:2379, unix:///run/strata.sock */
  url: string;
}

export interface Serving {
  /** host:port or unix://path of the first listen URL. */
  address: string;
  bound: BoundUrl[];
  /** Where --listen-metrics-urls ended up. */
  metricsAddresses: string[];
  /** Stops accepting; open HTTP/1.1 connections close once idle; gRPC sessions get GOAWAY. */
  drain(): Promise<void>;
  /** Drops every connection still open. */
  force(): void;
}

export async function serve(
  urls: ListenUrl[],
  grpcServer: grpc.Server,
  routes: HttpRoutes,
  tls: ServerTlsEngine | undefined,
  log: Logger,
): Promise<Serving> {
  if (!widenStreamResetLimit(grpcServer)) {
    log.warn(
      { node: process.versions.node },
      'node before 22.10 keeps nghttp2 stream reset limit: a client resetting over 1,000 streams at once on one connection gets GOAWAY INTERNAL_ERROR',
    );
  }
  const injector = grpcServer.createConnectionInjector(grpc.ServerCredentials.createInsecure());
  const handler = httpHandler(routes);
  routeHttpOverH2(grpcServer, handler, log);
  const httpServer = http.createServer(handler);
  guardInjectedConnections(grpcServer);
  // Watch streams are long-lived responses; node's default request timeout would cut them.
  httpServer.requestTimeout = 0;
  // etcd's Go server sets no idle timeout: a keep-alive connection stays open between requests
  // until the client closes it. Node's 5 s default races clients that reuse a connection later.
  httpServer.keepAliveTimeout = 0;
  /** HTTP/1.1 connections and how many requests each has in flight. */
  const http1 = new Map<Socket, number>();
  let stopping = false;

  httpServer.on('request', (req: http.IncomingMessage, res: http.ServerResponse) => {
    const socket = req.socket;
    http1.set(socket, (http1.get(socket) ?? 0) + 1);
    if (stopping) res.shouldKeepAlive = false;
    res.on('close', () => {
      const left = (http1.get(socket) ?? 1) - 1;
      if (http1.has(socket)) http1.set(socket, left);
      if (stopping && left === 0) socket.end();
    });
  });

  const handlers = {
    h2: (stream: Duplex) => {
      const connection = connectionOf(stream);
      if (connection instanceof Socket) routes.metrics.clientTraffic.track(connection);
      injector.injectConnection(stream);
    },
    http1: (socket: Socket) => {
      http1.set(socket, 0);
      socket.once('close', () => http1.delete(socket));
      httpServer.emit('connection', socket);
      // The HTTP parser reads the socket directly; resuming delivers the sniffed bytes first.
      socket.resume();
    },
  };
  const listenLog = log.child({ component: 'listener' });
  const classifyTls = tls?.classifier();
  const listeners: Listener[] = [];
  const bound: BoundUrl[] = [];
  try {
    for (const u of urls) {
      let l: Listener;
      try {
        l = await Listener.listen(u.at, handlers, listenLog, u.tls ? classifyTls : undefined);
      } catch (e) {
        throw new Error(`cannot listen on ${u.url}: ${(e as Error).message}`, { cause: e });
      }
      listeners.push(l);
      const url = u.at.kind === 'unix' ? `${u.tls ? 'unixs' : 'unix'}://${u.at.path}` : `${u.tls ? 'https' : 'http'}://${l.address}`;
      bound.push({ address: l.address, tls: u.tls, url });
    }
  } catch (e) {
    await Promise.all(listeners.map((l) => l.close()));
    throw e;
  }

  return {
    address: bound[0].address,
    bound,
    metricsAddresses: [],
    async drain() {
      stopping = true;
      const closed = Promise.all(listeners.map((l) => l.close()));
      for (const [socket, active] of http1) if (active === 0) socket.end();
      await Promise.all([closed, new Promise<void>((resolve) => grpcServer.tryShutdown(() => resolve())), drained(http1)]);
    },
    force() {
      grpcServer.forceShutdown();
      injector.destroy();
      for (const socket of http1.keys()) socket.destroy();
    },
  };
}

/** Resolves once every HTTP/1.1 connection has closed. */
async function drained(http1: Map<Socket, number>): Promise<void> {
  while (http1.size > 0) await Promise.race([...http1.keys()].map((s) => new Promise((r) => s.once('close', r))));
}
