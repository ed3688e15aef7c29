/**
 * The serving side of an app: one listener, the gRPC server fed injected HTTP/2 connections, a
 * node:http server fed HTTP/1.1 ones, and an orderly stop that drains both.
 */
import * as grpc from '@grpc/grpc-js';
import * as http from 'node:http';
import type { Socket } from 'node:net';
import type { Logger } from 'pino';
import type { ListenAddress } from '../config';
import { guardInjectedConnections } from './grpc-frames';
import { httpHandler, type HttpRoutes } from './http';
import { Listener } from './listener';

export interface Serving {
  /** host:port or unix://path. */
  address: string;
  /** Stops accepting; open HTTP/1.1 connections close once idle; gRPC sessions get GOAWAY. */
  drain(): Promise<void>;
  /** Drops every connection still open. */
  force(): void;
}

export async function serve(at: ListenAddress, grpcServer: grpc.Server, routes: HttpRoutes, log: Logger): Promise<Serving> {
  const injector = grpcServer.createConnectionInjector(grpc.ServerCredentials.createInsecure());
  guardInjectedConnections(grpcServer);
  const httpServer = http.createServer(httpHandler(routes));
  // Watch streams are long-lived responses; node's default request timeout would cut them.
  httpServer.requestTimeout = 0;
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

  const listener = await Listener.listen(
    at,
    {
      h2: (socket) => injector.injectConnection(socket),
      http1: (socket) => {
        http1.set(socket, 0);
        socket.once('close', () => http1.delete(socket));
        httpServer.emit('connection', socket);
        // The HTTP parser reads the socket directly; resuming delivers the sniffed bytes first.
        socket.resume();
      },
    },
    log.child({ component: 'listener' }),
  );

  return {
    address: listener.address,
    async drain() {
      stopping = true;
      const closed = listener.close();
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
