/**
 * etcd's HTTP/JSON gateway (/v3/…) over the same calls the gRPC services run: JSON is mapped to the
 * wire objects proto-loader would have decoded, the shared call runs, its reply is mapped back.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type * as protoLoader from '@grpc/proto-loader';
import { Code, EtcdError, Errors } from '../../errors';
import type { CallTable, StreamSink } from '../calls';
import type { RpcContext } from '../context';
import { kvCalls } from '../kv';
import { leaseCalls, openKeepAliveSession } from '../lease';
import { authCalls, clusterCalls, maintenanceCalls, SNAPSHOT_UNIMPLEMENTED } from '../maintenance';
import { loadPackage, REQUEST_SIZE, type ServiceName, type Wire } from '../proto';
import { toGatewayError, toGatewayStreamError } from '../status';
import { openWatchSession } from '../watch';
import { readBodyStream, readUnaryBody } from './body';
import { Converter } from './convert';
import type { JsonValue } from './json';
import { findRoute, UNSERVED, type Route } from './routes';
import { buildSchema } from './schema';
import { sendJson, sendText } from './reply';

/** gRPC refuses messages over max-request-bytes plus this; the gateway refuses the same. */
const RECEIVE_SLACK = 512 * 1024;

interface Method {
  requestType: string;
  responseType: string;
  /** The request's protobuf size: etcd's size limit is checked against it, as over gRPC. */
  encodedSize(w: Wire): number;
}

/** Called once per finished gateway request, for /metrics. */
export type Observe = (service: string, method: string, code: Code) => void;

export interface Gateway {
  /** Serves one request whose path (after the /v3beta rewrite) starts with /v3/. */
  handle(req: IncomingMessage, res: ServerResponse, path: string): void;
}

function methodOf(pkg: protoLoader.PackageDefinition, service: ServiceName, name: string): Method {
  const def = (pkg[`etcdserverpb.${service}`] as protoLoader.ServiceDefinition)[name];
  const full = (t: protoLoader.MessageTypeDefinition<object, object>) => `etcdserverpb.${(t.type as { name: string }).name}`;
  return {
    requestType: full(def.requestType),
    responseType: full(def.responseType),
    encodedSize: (w) => def.requestSerialize(w).length,
  };
}

export function createGateway(ctx: RpcContext, observe: Observe = () => undefined): Gateway {
  const pkg = loadPackage();
  const conv = new Converter(buildSchema(pkg));
  const calls: Partial<Record<ServiceName, CallTable>> = {
    KV: kvCalls(ctx),
    Lease: leaseCalls(ctx),
    Maintenance: maintenanceCalls(ctx),
    Cluster: clusterCalls(ctx),
    Auth: authCalls(ctx),
  };
  const receiveMax = ctx.limits.maxRequestBytes + RECEIVE_SLACK;
  // JSON carries bytes as base64 (4/3) plus field names: twice the protobuf limit bounds any valid body.
  const bodyCap = 2 * receiveMax;
  const log = ctx.log.child({ component: 'gateway' });

  /** JSON → wire object, with the size gRPC would have seen. */
  const decode = (m: Method, v: JsonValue | undefined): Wire => {
    const w = conv.fromJson(m.requestType, v);
    const size = m.encodedSize(w);
    if (size > receiveMax) throw Errors.messageTooLarge(size, receiveMax);
    w[REQUEST_SIZE as unknown as string] = size;
    return w;
  };

  const unary = (route: Route, req: IncomingMessage, res: ServerResponse): void => {
    const m = methodOf(pkg, route.service, route.method);
    const call = calls[route.service]?.[route.method];
    readUnaryBody(req, bodyCap)
      .then((v) => {
        if (!call) throw Errors.unimplemented(`${route.service} ${route.method}`);
        return call(decode(m, v));
      })
      .then(
        (out) => {
          observe(route.service, route.method, Code.OK);
          sendJson(res, 200, conv.toJson(m.responseType, out));
        },
        (e: unknown) => {
          const { status, body } = toGatewayError(e, log);
          observe(route.service, route.method, body.code);
          sendJson(res, status, body);
        },
      );
  };

  /** A chunked `{"result":…}` line stream; errors before the first line get a status of their own. */
  const streamSink = (res: ServerResponse, m: Method, onDone: (code: Code) => void): StreamSink => {
    let ended = false;
    const start = () => {
      if (!res.headersSent) res.writeHead(200, { 'Content-Type': 'application/json' });
    };
    return {
      write: (w) => {
        if (ended) return true;
        start();
        return res.write(`${JSON.stringify({ result: conv.toJson(m.responseType, w) })}\n`);
      },
      end: () => {
        if (ended) return;
        ended = true;
        start();
        res.end();
        onDone(Code.OK);
      },
      error: (e) => {
        if (ended) return;
        ended = true;
        const { status, body } = toGatewayStreamError(e, log);
        if (!res.headersSent) res.writeHead(status, { 'Content-Type': 'application/json' });
        res.end(`${JSON.stringify({ error: body })}\n`);
        onDone((body.grpc_code as Code | undefined) ?? Code.Unknown);
      },
    };
  };

  /**
   * Watch and keepalive: every JSON message in the body is one stream request. As in etcd's gateway,
   * a first message that is not JSON fails the request (500, code 2: the error is not a gRPC status).
   */
  const stream = (route: Route, req: IncomingMessage, res: ServerResponse): void => {
    const m = methodOf(pkg, route.service, route.method);
    let finished = false;
    const sink = streamSink(res, m, (code) => {
      finished = true;
      observe(route.service, route.method, code);
    });
    let session: { handle(w: Wire): void; close(): void; finish(): void; drained(): void } | undefined;
    const open = () => {
      if (session) return session;
      if (route.kind === 'watch') {
        const s = openWatchSession(ctx, sink, log.child({ component: 'gateway-watch' }));
        // A gateway watch outlives its request body: it ends when the client leaves.
        session = { ...s, finish: () => undefined };
        res.on('drain', () => s.drained());
      } else {
        const s = openKeepAliveSession(ctx, sink);
        session = { ...s, drained: () => undefined };
      }
      return session;
    };
    // The client leaving is how a gateway watch normally ends.
    res.on('close', () => {
      session?.close();
      if (!finished) observe(route.service, route.method, Code.OK);
      finished = true;
    });
    // Decoding errors here are not gRPC statuses in etcd's gateway, so they surface as Unknown.
    const sendFailure = (e: unknown): void => {
      finished = true;
      const err = e instanceof EtcdError && e.code !== Code.InvalidArgument ? e : new EtcdError(Code.Unknown, (e as Error).message);
      const { status, body } = toGatewayError(err, log);
      observe(route.service, route.method, body.code);
      sendJson(res, status, body);
    };

    let first = true;
    readBodyStream(req, bodyCap, {
      message: (v) => {
        let w: Wire;
        try {
          w = decode(m, v);
        } catch (e) {
          if (first) sendFailure(e);
          else open().finish();
          return;
        }
        first = false;
        open().handle(w);
      },
      error: (e) => {
        if (first) sendFailure(e);
        else open().finish();
      },
      end: () => open().finish(),
    });
  };

  const snapshot = (res: ServerResponse, route: Route): void => {
    const m = methodOf(pkg, route.service, route.method);
    streamSink(res, m, (code) => observe(route.service, route.method, code)).error(Errors.unimplemented(SNAPSHOT_UNIMPLEMENTED));
  };

  return {
    handle(req, res, path) {
      const route = findRoute(path);
      const unserved = UNSERVED[path];
      if (!route && !unserved) return sendText(res, 404, 'Not Found');
      // grpc-gateway binds POST only; any other method is refused before the body is read.
      if (req.method !== 'POST') return sendText(res, 405, 'Method Not Allowed');
      if (unserved) {
        const { status, body } = toGatewayError(Errors.unimplemented(unserved), log);
        return sendJson(res, status, body);
      }
      if (!route) return;
      if (route.kind === 'unary') unary(route, req, res);
      else if (route.kind === 'snapshot') snapshot(res, route);
      else stream(route, req, res);
    },
  };
}
