/**
 * Which protocol a new plaintext connection speaks, from its first bytes: every HTTP/2 client
 * (gRPC) opens with the connection preface; anything else is taken as HTTP/1.1. The bytes read are
 * pushed back so the server that takes the connection sees them.
 */
import type { Socket } from 'node:net';

export type Protocol = 'h2' | 'http1';

/** RFC 9113 §3.4: the client connection preface. */
const PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1');

/**
 * Resolves the protocol once enough bytes have arrived to tell (as soon as they stop matching the
 * preface, or when the whole preface is there), or null if the connection closes or stays silent
 * for `timeoutMs` first. On success the socket is paused with the bytes unshifted.
 */
export function sniffProtocol(socket: Socket, timeoutMs: number): Promise<Protocol | null> {
  return new Promise((resolve) => {
    let seen: Buffer = Buffer.alloc(0);
    const finish = (p: Protocol | null): void => {
      clearTimeout(timer);
      socket.removeListener('data', onData);
      socket.removeListener('close', onClose);
      socket.removeListener('error', onClose);
      if (p) {
        socket.pause();
        socket.unshift(seen);
      }
      resolve(p);
    };
    const onData = (chunk: Buffer): void => {
      seen = seen.length === 0 ? chunk : Buffer.concat([seen, chunk]);
      const n = Math.min(seen.length, PREFACE.length);
      const matches = seen.subarray(0, n).equals(PREFACE.subarray(0, n));
      if (!matches) finish('http1');
      else if (n === PREFACE.length) finish('h2');
    };
    const onClose = (): void => finish(null);
    const timer = setTimeout(onClose, timeoutMs);
    socket.on('data', onData);
    socket.once('close', onClose);
    socket.once('error', onClose);
  });
}
