/**
 * gRPC message framing checked as grpc-go (etcd) checks it, before grpc-js reads a stream. grpc-js
 * runs a message whose compressed flag is set with no grpc-encoding as if it were not compressed,
 * and answers truncated, missing and extra request messages in words of its own (UNIMPLEMENTED);
 * it also decompresses gzip, which etcd refuses.
 * A stream that breaks the framing gets etcd's status and its bytes never reach grpc-js; a method
 * taking one request message ignores any after the first, as grpc-go does.
 */
import * as http2 from 'node:http2';
import type * as grpc from '@grpc/grpc-js';
import { injectedHttp2Server } from './injected-server';

/** What a path's method reads: one request message, or a stream of them (undefined: unknown path). */
export type RequestShape = (path: string) => 'one' | 'stream' | undefined;

interface Refusal {
  code: number;
  message: string;
}

const UNKNOWN = 2;
const UNIMPLEMENTED = 12;
const INTERNAL = 13;
const COMPRESSED_IDENTITY = 'grpc: compressed flag set with identity or empty encoding';

/** Checks the connections of the injector just created on `server` (createConnectionInjector). */
export function guardInjectedConnections(server: grpc.Server): void {
  guardGrpcFrames(injectedServer(server), requestShapes(server));
}

/** Installs the check ahead of grpc-js's own handler on its HTTP/2 server. */
function guardGrpcFrames(server: http2.Http2Server, shapeOf: RequestShape): void {
  server.prependListener('stream', (stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders) => {
    const shape = shapeOf(String(headers[':path']));
    if (shape) watchFrames(stream, headers['grpc-encoding'], shape === 'one');
  });
}

/** A reader of the 5-byte-prefixed messages of one request stream. */
class Framing {
  private readonly head = Buffer.alloc(5);
  private headLen = 0;
  private left = 0;
  /** Complete messages seen. */
  messages = 0;

  constructor(private readonly single: boolean) {}

  /** The part of `chunk` grpc-js may see, or a refusal. */
  scan(chunk: Buffer): Buffer | Refusal {
    let i = 0;
    while (i < chunk.length) {
      if (this.left > 0) {
        const n = Math.min(this.left, chunk.length - i);
        this.left -= n;
        i += n;
        if (this.left === 0) this.messages++;
        continue;
      }
      if (this.single && this.messages > 0 && this.headLen === 0) return chunk.subarray(0, i);
      this.head[this.headLen++] = chunk[i++];
      if (this.headLen < 5) continue;
      this.headLen = 0;
      const flag = this.head[0];
      this.left = this.head.readUInt32BE(1);
      if (flag > 1) return { code: INTERNAL, message: `grpc: received unexpected payload format ${flag}` };
      if (flag === 1) return { code: INTERNAL, message: COMPRESSED_IDENTITY };
      if (this.left === 0) this.messages++;
    }
    return chunk;
  }

  /** At the end of the request: a message cut off, or (one expected) none at all. */
  atEnd(): Refusal | undefined {
    if (this.headLen > 0 || this.left > 0) return { code: this.single ? UNKNOWN : INTERNAL, message: 'unexpected EOF' };
    if (this.single && this.messages === 0) return { code: UNKNOWN, message: 'EOF' };
    return undefined;
  }
}

function watchFrames(stream: http2.ServerHttp2Stream, encoding: string | string[] | undefined, single: boolean): void {
  const framing = new Framing(single);
  // grpc-go (etcd) has no decompressor registered: any other encoding is refused before a message is read.
  const unsupported: Refusal | undefined =
    encoding === undefined || encoding === '' || encoding === 'identity'
      ? undefined
      : { code: UNIMPLEMENTED, message: `grpc: Decompressor is not installed for grpc-encoding "${String(encoding)}"` };
  let refused = false;
  const refuse = (r: Refusal): false => {
    refused = true;
    if (stream.destroyed || stream.closed) return false;
    if (stream.headersSent) {
      // grpc-js has answered already (a stream's first responses): its trailers are not ours to send.
      stream.close(http2.constants.NGHTTP2_INTERNAL_ERROR);
    } else {
      stream.respond(
        { ':status': 200, 'content-type': 'application/grpc', 'grpc-status': String(r.code), 'grpc-message': r.message },
        { endStream: true },
      );
      // As grpc-go: a client still sending learns at once that the stream is over.
      stream.close(http2.constants.NGHTTP2_NO_ERROR);
    }
    // Drains what the client still sends: a paused stream never ends, and grpc-js waits for that.
    stream.resume();
    return false;
  };
  // The stream's own emit, wrapped for this stream only: what grpc-js hears of the request body.
  const own = Object.hasOwn(stream, 'emit');
  const original = stream.emit;
  const emit = original.bind(stream) as (event: string | symbol, ...args: unknown[]) => boolean;
  const guarded = ((event: string | symbol, ...args: unknown[]): boolean => {
    if (unsupported && !refused && (event === 'data' || event === 'end')) refuse(unsupported);
    if (event === 'end') {
      const r = refused ? undefined : framing.atEnd();
      if (r) refuse(r);
      // The request body is over: the stream's later events (finish, trailers, close) skip the check.
      if (stream.emit === guarded) {
        if (own) stream.emit = original;
        else delete (stream as { emit?: unknown }).emit;
      }
      // Passed on even when refused: node:http2 destroys the stream on it, and grpc-js, seeing
      // the stream closed, ends its call without answering.
      return emit(event);
    }
    if (event === 'data') {
      if (refused) return false;
      const part = framing.scan(args[0] as Buffer);
      if (!Buffer.isBuffer(part)) return refuse(part);
      return part.length > 0 ? emit(event, part) : false;
    }
    return emit(event, ...args);
  }) as typeof stream.emit;
  stream.emit = guarded;
}

/**
 * grpc-js's internals the frame check needs : the HTTP/2 server behind the injector
 * just created, and the registered methods' kinds. Not public API, so their shape is checked here
 * and a grpc-js that changed them fails at start-up rather than serving unchecked.
 */
interface GrpcInternals {
  handlers?: Map<string, { type: string }>;
}

function injectedServer(server: grpc.Server): http2.Http2Server {
  const h2 = injectedHttp2Server(server);
  if (!h2) throw new Error('grpc-js: no HTTP/2 server behind the connection injector');
  return h2;
}

function requestShapes(server: grpc.Server): RequestShape {
  const handlers = (server as unknown as GrpcInternals).handlers;
  if (!(handlers instanceof Map)) throw new Error('grpc-js: registered handlers not found');
  return (path) => {
    const type = handlers.get(path)?.type;
    if (type === undefined) return undefined;
    return type === 'bidi' || type === 'clientStream' ? 'stream' : 'one';
  };
}
