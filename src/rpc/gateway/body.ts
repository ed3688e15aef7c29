/** Request bodies of the gateway: one JSON message (unary) or a sequence of them (streams). */
import type { IncomingMessage } from 'node:http';
import { Code, EtcdError, Errors } from '../../errors';
import { JsonIncomplete, JsonSequence, JsonSyntaxError, parseJsonBody, type JsonValue } from './json';

/**
 * Reads a whole unary body, refusing more than `cap` bytes (the client is told at once; the rest
 * of its body is discarded). Resolves undefined for an empty body, which etcd takes as `{}`.
 */
export function readUnaryBody(req: IncomingMessage, cap: number): Promise<JsonValue | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let failed = false;
    req.on('data', (c: Buffer) => {
      if (failed) return;
      size += c.length;
      if (size > cap) {
        failed = true;
        reject(Errors.messageTooLarge(size, cap));
        return;
      }
      chunks.push(c);
    });
    // A client that leaves mid-body (connection reset) cancelled its request; it is not a server error.
    req.on('error', () => {
      if (!failed) reject(new EtcdError(Code.Canceled, 'context canceled'));
      failed = true;
    });
    req.on('end', () => {
      if (failed) return;
      try {
        resolve(parseJsonBody(Buffer.concat(chunks).toString('utf8')));
      } catch (e) {
        reject(e instanceof JsonSyntaxError || e instanceof JsonIncomplete ? Errors.badRequest((e as Error).message) : e);
      }
    });
  });
}

interface BodyStreamHandlers {
  /** One complete request message. */
  message(v: JsonValue): void;
  /** The body is not JSON (or too large); no more messages will come. */
  error(e: Error): void;
  /** The body ended; every message has been delivered. */
  end(): void;
}

/** Delivers a streaming body's JSON messages as they complete (clients may keep the body open). */
export function readBodyStream(req: IncomingMessage, cap: number, h: BodyStreamHandlers): void {
  const seq = new JsonSequence();
  let stopped = false;
  const drain = (ended: boolean): void => {
    try {
      for (let v = seq.next(ended); v !== undefined; v = seq.next(ended)) {
        if (stopped) return;
        h.message(v);
      }
    } catch (e) {
      stopped = true;
      h.error(e as Error);
    }
  };
  req.on('data', (c: Buffer) => {
    if (stopped) return;
    seq.push(c);
    drain(false);
    // Only an unfinished message is held; one larger than any request could be is refused.
    if (!stopped && seq.pending > cap) {
      stopped = true;
      h.error(Errors.messageTooLarge(seq.pending, cap));
    }
  });
  req.on('end', () => {
    if (stopped) return;
    drain(true);
    if (!stopped) h.end();
  });
}
