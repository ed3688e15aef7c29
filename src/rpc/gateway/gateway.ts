/**
 * etcd's HTTP/JSON gateway (/v3/…) over the same methods the gRPC services run: JSON is converted to
 * the messages proto-loader would have decoded (with the size their protobuf encoding would have),
 * the shared method runs, and its encoded result is converted back to JSON.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type * as protoLoader from '@grpc/proto-loader';
import { Code, Errors } from '../../errors';
import { gatewayCommonName, presentedByHttp } from '../auth/presented';
import { credentialsOf } from '../auth/tokens';
import { streamRefusal, type Caller, type StreamMethod, type StreamSession, type StreamSink } from '../calls';
import type { RpcContext } from '../context';
import { gatewayBodyLimit, receiveLimit } from '../limits';
import { loadPackage, packageOf, type ServiceName } from '../proto';
import { serviceMethods } from '../services';
import { pumpSnapshot, snapshotCall } from '../snapshot';
import { toGatewayError, toGatewayStreamError, toGatewayStreamRequestError } from '../status';
import { readBodyStream, readUnaryBody } from './body';
import { Converter } from './convert';
import type { JsonValue } from './json';
import { sendJson, sendText } from './reply';
import { findRoute, UNSERVED, type Route } from './routes';
import { buildSchema } from './schema';

/** The full names of a method's request and response messages. */
interface MessageTypes {
  requestType: string;
  responseType: string;
}

/** Called once per finished gateway request, for /metrics. */
export type Observe = (service: string, method: string, code: Code) => void;

export interface Gateway {
  /** Serves one request whose path (after the /v3beta rewrite) starts with /v3/. */
  handle(req: IncomingMessage, res: ServerResponse, path: string): void;
}

function typesOf(pkg: protoLoader.PackageDefinition, service: ServiceName, name: string): MessageTypes {
  const def = (pkg[`${packageOf(service)}.${service}`] as protoLoader.ServiceDefinition)[name];
  const full = (t: protoLoader.MessageTypeDefinition<object, object>) => `${packageOf(service)}.${(t.type as { name: string }).name}`;
  return { requestType: full(def.requestType), responseType: full(def.responseType) };
}

export function createGateway(ctx: RpcContext, observe: Observe = () => undefined): Gateway {
  const pkg = loadPackage();
  const conv = new Converter(buildSchema(pkg));
  const methods = serviceMethods(ctx);
  const receiveMax = receiveLimit(ctx.limits);
  const bodyCap = gatewayBodyLimit(ctx.limits);
  const log = ctx.log.child({ component: 'gateway' });
  const readTimeoutMs = ctx.limits.bounds?.gatewayReadTimeoutMs ?? 0;

  /**
   * A client that does not send its body (a stream's first message) in time is answered 408 and
   * its connection closed, as node's own requestTimeout would (off here: watches are long-lived).
   * Returns the function to call once the body has arrived.
   */
  const readDeadline = (req: IncomingMessage, res: ServerResponse): (() => void) => {
    if (readTimeoutMs <= 0) return () => undefined;
    const timer = setTimeout(() => {
      if (!res.headersSent) res.writeHead(408, { Connection: 'close', 'Content-Type': 'text/plain; charset=utf-8' });
      res.end('request body not received in time (--gateway-read-timeout)\n');
      req.socket.destroy();
    }, readTimeoutMs);
    res.on('close', () => clearTimeout(timer));
    return () => clearTimeout(timer);
  };

  /** JSON → the request message, with the size gRPC would have seen. */
  const callerOf =
    (req: IncomingMessage): Caller =>
    () =>
      credentialsOf(presentedByHttp(req), ctx.auth.tokens, ctx.auth.clientCertAuth);

  const decode = (t: MessageTypes, v: JsonValue | undefined): { message: unknown; size: number } => {
    const r = conv.fromJson<unknown>(t.requestType, v);
    if (r.size > receiveMax) throw Errors.messageTooLarge(r.size, receiveMax);
    return r;
  };

  const unary = (route: Route, req: IncomingMessage, res: ServerResponse): void => {
    const t = typesOf(pkg, route.service, route.method);
    const method = methods[route.service].unary[route.method];
    // A call that may wait ends when the client leaves.
    let signal: AbortSignal | undefined;
    if (method?.waits) {
      const ac = new AbortController();
      res.on('close', () => ac.abort());
      signal = ac.signal;
    }
    const arrived = readDeadline(req, res);
    readUnaryBody(req, bodyCap)
      .then(async (v) => {
        arrived();
        if (!method) throw Errors.unimplemented(`${route.service} ${route.method}`);
        const { message, size } = decode(t, v);
        return method.encode(await method.run(message, size, await callerOf(req)(), signal));
      })
      .then(
        (out) => {
          observe(route.service, route.method, Code.OK);
          sendJson(res, 200, conv.toJson(t.responseType, out));
        },
        (e: unknown) => {
          const { status, body } = toGatewayError(e, log);
          observe(route.service, route.method, body.code);
          sendJson(res, status, body);
        },
      );
  };

  /** A chunked `{"result":…}` line stream; errors before the first line get a status of their own. */
  const streamSink = (
    res: ServerResponse,
    t: MessageTypes,
    encode: (r: unknown) => object,
    onDone: (code: Code) => void,
  ): StreamSink<unknown> => {
    let ended = false;
    const start = () => {
      if (!res.headersSent) res.writeHead(200, { 'Content-Type': 'application/json' });
    };
    // The response may have been ended without the sink (a refused request, the read deadline):
    // writing then would be node's write-after-end error, unhandled.
    const over = () => ended || res.writableEnded || res.destroyed;
    return {
      write: (r) => {
        if (over()) return true;
        start();
        return res.write(`${JSON.stringify({ result: conv.toJson(t.responseType, encode(r)) })}\n`);
      },
      end: () => {
        if (over()) return;
        ended = true;
        start();
        res.end();
        onDone(Code.OK);
      },
      error: (e) => {
        if (over()) return;
        ended = true;
        const { status, body } = toGatewayStreamError(e, log);
        if (!res.headersSent) res.writeHead(status, { 'Content-Type': 'application/json' });
        res.end(`${JSON.stringify({ error: body })}\n`);
        onDone(body.grpc_code ?? Code.Unknown);
      },
    };
  };

  /**
   * Watch and keepalive: every JSON message in the body is one stream request. As in etcd's gateway,
   * a first message that is not JSON fails the request (500, code 2: the error is not a gRPC status).
   */
  const stream = (route: Route, method: StreamMethod<unknown, unknown, object>, req: IncomingMessage, res: ServerResponse): void => {
    const t = typesOf(pkg, route.service, route.method);
    const refused = streamRefusal(ctx);
    if (refused) {
      const { status, body } = toGatewayError(refused, log);
      observe(route.service, route.method, body.code);
      return sendJson(res, status, body);
    }
    const arrived = readDeadline(req, res);
    let finished = false;
    const sink = streamSink(
      res,
      t,
      (r) => method.encode(r),
      (code) => {
        finished = true;
        observe(route.service, route.method, code);
      },
    );
    let session: StreamSession<unknown> | undefined;
    /** The client has left: a session opened after that (by body bytes read late) closes at once. */
    let gone = false;
    const open = (): StreamSession<unknown> => {
      if (session) return session;
      const s = method.open(sink, log.child({ component: `gateway-${route.method.toLowerCase()}` }), callerOf(req));
      res.on('drain', () => s.drained());
      session = s;
      if (gone) s.close();
      return s;
    };
    /** No more requests will be read: a stream that outlives its body goes on until the client leaves. */
    const bodyDone = (): void => {
      const s = open();
      if (!route.outlivesBody) s.finish();
    };
    // The client leaving is how a gateway watch normally ends.
    res.on('close', () => {
      gone = true;
      session?.close();
      if (!finished) observe(route.service, route.method, Code.OK);
      finished = true;
    });
    const sendFailure = (e: unknown): void => {
      finished = true;
      const { status, body } = toGatewayStreamRequestError(e, log);
      observe(route.service, route.method, body.code);
      sendJson(res, status, body);
    };

    let first = true;
    /** The first message failed the request: what else the body holds is not read, as etcd's gateway. */
    let refusedAtFirst = false;
    const fail = (e: unknown): void => {
      if (first) {
        refusedAtFirst = true;
        sendFailure(e);
      } else bodyDone();
    };
    readBodyStream(req, bodyCap, {
      message: (v) => {
        if (refusedAtFirst) return;
        arrived();
        let message: unknown;
        try {
          message = decode(t, v).message;
        } catch (e) {
          fail(e);
          return;
        }
        first = false;
        open().handle(message);
      },
      error: (e) => {
        if (!refusedAtFirst) fail(e);
      },
      end: () => {
        arrived();
        if (!refusedAtFirst) bodyDone();
      },
    });
  };

  const openSnapshot = snapshotCall(ctx);
  /** Snapshot's messages as `{"result":…}` lines, at the pace the client reads them. */
  const snapshot = (req: IncomingMessage, res: ServerResponse, route: Route): void => {
    const t = typesOf(pkg, route.service, route.method);
    const sink = streamSink(
      res,
      t,
      (r) => r as object,
      (code) => observe(route.service, route.method, code),
    );
    let gone = false;
    res.on('close', () => (gone = true));
    // The request body (an empty SnapshotRequest) is not needed.
    req.resume();
    void (async () => {
      await pumpSnapshot(openSnapshot(await callerOf(req)()), {
        write: (m) => sink.write(m),
        drained: () =>
          new Promise<void>((resolve) => {
            const done = () => {
              res.off('drain', done);
              res.off('close', done);
              resolve();
            };
            res.on('drain', done);
            res.on('close', done);
          }),
        gone: () => gone,
      });
      if (!gone) sink.end();
    })().catch((e: unknown) => sink.error(e));
  };

  return {
    handle(req, res, path) {
      // etcd's gateway refuses a client certificate whose name it would not use (embed/serve.go).
      if (ctx.auth.clientCertAuth && ctx.store.authEnabled && gatewayCommonName(req)) {
        return sendText(res, 400, 'CommonName of client sending a request against gateway will be ignored and not used as expected');
      }
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
      const streamMethod = methods[route.service].streams[route.method];
      if (route.kind === 'stream' && streamMethod) stream(route, streamMethod, req, res);
      else if (route.kind === 'snapshot') snapshot(req, res, route);
      else unary(route, req, res);
    },
  };
}
