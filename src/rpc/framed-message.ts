/**
 * Responses grpc-js sends without copying them. grpc-js frames every message it sends by copying
 * it into a new buffer behind gRPC's 5-byte prefix (compressed flag, big-endian length); for a
 * 10 MB Range response that copy and its allocation were a tenth of the request's CPU and much of
 * its GC. An encoder that knows its size asks `framedMessage` for the buffer to write into: the
 * prefix is already in front of it, and grpc-js's framing step, taught by `sendFramedMessages`,
 * sends the whole as it is. Any other message is framed as grpc-js frames it.
 */
import type { Logger } from 'pino';

const PREFIX = 5;
/** The messages that have their prefix in front of them, each with the buffer that includes it. */
const framed = new WeakMap<Buffer, Buffer>();

/** A buffer for a message of exactly `size` bytes, the gRPC prefix in front of it. */
export function framedMessage(size: number): Buffer {
  const whole = Buffer.allocUnsafe(PREFIX + size);
  whole[0] = 0;
  whole.writeUInt32BE(size, 1);
  const message = whole.subarray(PREFIX);
  framed.set(message, whole);
  return message;
}

/** A message with its prefix: as it was built, or copied behind one (grpc-js's own framing). */
export function withPrefix(message: Buffer): Buffer {
  const whole = framed.get(message);
  if (whole) return whole;
  const out = Buffer.allocUnsafe(PREFIX + message.length);
  out[0] = 0;
  out.writeUInt32BE(message.length, 1);
  message.copy(out, PREFIX);
  return out;
}

/**
 * grpc-js's server call, as far as its framing step goes. Not public API (build/src/server-
 * interceptors), so its shape is checked here; a grpc-js without it keeps its own framing.
 */
interface ServerCallPrototype {
  serializeMessage?: (this: ServerCall, value: unknown) => Buffer;
}
interface ServerCall {
  handler: { serialize(value: unknown): Buffer };
}

let installed = false;

/** Makes grpc-js's server calls send framed messages as they are (once per process). */
export function sendFramedMessages(log: Logger): void {
  if (installed) return;
  installed = true;
  let proto: ServerCallPrototype | undefined;
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const internals = require('@grpc/grpc-js/build/src/server-interceptors') as {
      BaseServerInterceptingCall?: { prototype: ServerCallPrototype };
    };
    proto = internals.BaseServerInterceptingCall?.prototype;
  } catch {
    proto = undefined;
  }
  if (typeof proto?.serializeMessage !== 'function' || proto.serializeMessage.length !== 1) {
    log.warn({ component: 'grpc' }, "grpc-js's framing step was not found: every response is copied once more");
    return;
  }
  proto.serializeMessage = function serializeMessage(this: ServerCall, value: unknown): Buffer {
    return withPrefix(this.handler.serialize(value));
  };
}
