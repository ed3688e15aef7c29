/**
 * etcd's Go client dials `unix:///run/etcd.sock` with the socket path as the HTTP/2 `:authority`
 * ("/run/etcd.sock"). nghttp2, under node:http2, checks :authority against RFC 3986's authority
 * characters and resets any stream whose :authority holds a `/` (RST_STREAM PROTOCOL_ERROR), and
 * node has no option to turn that check off. Go's server accepts it, so etcd works there.
 *
 * On unix sockets strata therefore puts this stream between the socket and node's HTTP/2 session:
 * it passes every frame through unchanged except the client's header blocks (HEADERS and their
 * CONTINUATIONs), which it decodes, gives a percent-encoded :authority (and host) where a character
 * is outside nghttp2's set, and re-encodes as plain literals. The server-to-client direction is
 * untouched.
 */
import type { ServerHttp2Session } from 'node:http2';
import { Duplex } from 'node:stream';
import { TLSSocket } from 'node:tls';
import { encodeLiterals, HpackDecoder, type HeaderField } from './hpack';

/** node:http2's defaults, which grpc-js keeps: what the client may use, and the largest frame we may send. */
const HEADER_TABLE_SIZE = 4096;
const MAX_FRAME_SIZE = 16384;

const PREFACE_LENGTH = 24;
const HEADERS = 0x1;
const CONTINUATION = 0x9;
const END_STREAM = 0x1;
const END_HEADERS = 0x4;
const PADDED = 0x8;
const PRIORITY = 0x20;

/** nghttp2_check_authority's characters, plus `%` for the escapes. */
const AUTHORITY_OK = /^[A-Za-z0-9\-._~!$&'()*+,;=:@[\]%]*$/;

export function escapeAuthority(v: string): string {
  if (AUTHORITY_OK.test(v)) return v;
  return v.replace(/[^A-Za-z0-9\-._~!$&'()*+,;=:@[\]%]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}`);
}

/** Rewrites client-to-server HTTP/2 bytes; `push` returns what to hand on (the frames complete so far). */
class AuthorityRewriter {
  private readonly decoder = new HpackDecoder(HEADER_TABLE_SIZE);
  private pending: Buffer = Buffer.alloc(0);
  private prefaceLeft = PREFACE_LENGTH;
  /** A header block waiting for its CONTINUATION frames. */
  private block: { stream: number; flags: number; priority: Buffer; fragments: Buffer[] } | undefined;

  push(chunk: Buffer): Buffer {
    const out: Buffer[] = [];
    if (this.prefaceLeft > 0) {
      const n = Math.min(this.prefaceLeft, chunk.length);
      out.push(chunk.subarray(0, n));
      this.prefaceLeft -= n;
      chunk = chunk.subarray(n);
    }
    this.pending = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    let at = 0;
    while (this.pending.length - at >= 9) {
      const length = this.pending.readUIntBE(at, 3);
      if (this.pending.length - at < 9 + length) break;
      const type = this.pending[at + 3];
      const flags = this.pending[at + 4];
      const stream = this.pending.readUInt32BE(at + 5) & 0x7fffffff;
      const frame = this.pending.subarray(at, at + 9 + length);
      at += 9 + length;
      if (type === HEADERS) this.headers(frame.subarray(9), flags, stream, out);
      else if (type === CONTINUATION && this.block?.stream === stream) {
        this.block.fragments.push(frame.subarray(9));
        if (flags & END_HEADERS) this.finish(out);
      } else if (this.block) throw new Error('HTTP/2 frame inside a header block');
      else out.push(frame);
    }
    this.pending = this.pending.subarray(at);
    return out.length === 1 ? out[0] : Buffer.concat(out);
  }

  private headers(payload: Buffer, flags: number, stream: number, out: Buffer[]): void {
    if (this.block) throw new Error('HTTP/2 HEADERS inside a header block');
    let start = 0;
    let end = payload.length;
    if (flags & PADDED) {
      end -= payload[0];
      start = 1;
    }
    const priority = flags & PRIORITY ? payload.subarray(start, start + 5) : Buffer.alloc(0);
    start += priority.length;
    if (end < start) throw new Error('HTTP/2 HEADERS padding longer than the frame');
    this.block = { stream, flags, priority, fragments: [payload.subarray(start, end)] };
    if (flags & END_HEADERS) this.finish(out);
  }

  private finish(out: Buffer[]): void {
    const b = this.block as NonNullable<AuthorityRewriter['block']>;
    this.block = undefined;
    const fields: HeaderField[] = this.decoder
      .decode(Buffer.concat(b.fragments))
      .map((f) => (f.name === ':authority' || f.name === 'host' ? { ...f, value: escapeAuthority(f.value) } : f));
    const encoded = Buffer.concat([b.priority, encodeLiterals(fields)]);
    for (let at = 0, first = true; first || at < encoded.length; first = false) {
      const piece = encoded.subarray(at, at + MAX_FRAME_SIZE);
      at += piece.length;
      const last = at >= encoded.length;
      const flags = first ? (b.flags & (END_STREAM | PRIORITY)) | (last ? END_HEADERS : 0) : last ? END_HEADERS : 0;
      out.push(frameHeader(piece.length, first ? HEADERS : CONTINUATION, flags, b.stream), piece);
    }
  }
}

function frameHeader(length: number, type: number, flags: number, stream: number): Buffer {
  const h = Buffer.alloc(9);
  h.writeUIntBE(length, 0, 3);
  h[3] = type;
  h[4] = flags;
  h.writeUInt32BE(stream, 5);
  return h;
}

/** Each rewritten stream's socket (a TLS socket on unixs://). */
const underlying = new WeakMap<Duplex, Duplex>();

/**
 * node wraps a stream that is not a socket of its own (as a rewritten one) in an internal
 * socket, and `session.socket` shows that wrapper, so grpc-js's getAuthContext (which wants a
 * TLSSocket there) would not see the client certificate. Call on each new session: it shows the
 * TLS socket under the rewrite instead. grpc-js only reads from it (node's proxy forbade writes).
 */
export function showTlsUnderRewrite(session: ServerHttp2Session): void {
  const wrapper = (session.socket as unknown as { stream?: unknown }).stream;
  const socket = wrapper instanceof Duplex ? underlying.get(wrapper) : undefined;
  if (socket instanceof TLSSocket) Object.defineProperty(session, 'socket', { value: socket, configurable: true });
}

/** The connection under a rewritten stream (or the stream itself): what its byte counters are on. */
export function connectionOf(stream: Duplex): Duplex {
  return underlying.get(stream) ?? stream;
}

/** `socket` as seen through an AuthorityRewriter; closing either side closes the other. */
export function rewriteAuthority(socket: Duplex): Duplex {
  const rewriter = new AuthorityRewriter();
  const d = new Duplex({
    read() {
      socket.resume();
    },
    write(chunk: Buffer, _enc, cb) {
      socket.write(chunk, cb);
    },
    final(cb) {
      socket.end();
      cb();
    },
    destroy(err, cb) {
      socket.destroy();
      cb(err);
    },
  });
  socket.on('data', (chunk: Buffer) => {
    let out: Buffer;
    try {
      out = rewriter.push(chunk);
    } catch (e) {
      // Not HTTP/2 that nghttp2 would take either: the connection ends as nghttp2 would end it.
      return void d.destroy(e as Error);
    }
    if (out.length > 0 && !d.push(out)) socket.pause();
  });
  socket.once('end', () => d.push(null));
  socket.once('close', () => d.destroy());
  socket.on('error', (e) => d.destroy(e));
  underlying.set(d, socket);
  return d;
}
