/** HTTP helpers for gateway tests: plain node:http, as any etcd gateway client speaks it. */
import * as http from 'node:http';
import type { Msg } from '../helpers/client';
import type { Identity } from '../helpers/identity';

export interface Reply {
  status: number;
  headers: http.IncomingHttpHeaders;
  text: string;
  /** The body parsed as JSON: any JSON value, or undefined when the body is not JSON. */
  json: any; // eslint-disable-line @typescript-eslint/no-explicit-any
}

/** Where to connect: a base URL (http://host:port) or a unix socket path. */
export type Target = string | { socketPath: string };

function options(t: Target, path: string, method: string): http.RequestOptions {
  if (typeof t === 'string') {
    const u = new URL(path, t);
    return { host: u.hostname, port: u.port, path: u.pathname + u.search, method };
  }
  return { socketPath: t.socketPath, path, method };
}

export function request(
  t: Target,
  method: string,
  path: string,
  body?: string | object,
  headers: http.OutgoingHttpHeaders = {},
): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = http.request({ ...options(t, path, method), headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let json: unknown;
        try {
          json = JSON.parse(text);
        } catch {
          json = undefined;
        }
        resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json });
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    if (body !== undefined) req.write(typeof body === 'string' ? body : JSON.stringify(body));
    req.end();
  });
}

export const post = (t: Target, path: string, body?: string | object, headers?: http.OutgoingHttpHeaders) =>
  request(t, 'POST', path, body, headers);
export const get = (t: Target, path: string) => request(t, 'GET', path);

/** A response header as the gateway writes it (jsonpb leaves out a revision of 0). */
export function jsonHeader(identity: Identity, rev: number | string): Msg {
  return Number(rev) === 0 ? { ...identity } : { ...identity, revision: String(rev) };
}

/** base64 of a string, as the gateway carries keys and values. */
export const b64 = (s: string): string => Buffer.from(s, 'utf8').toString('base64');
export const unb64 = (s: string | undefined): string => Buffer.from(s ?? '', 'base64').toString('utf8');
/** etcd's prefix range_end for a string key, base64. */
export function b64PrefixEnd(prefix: string): string {
  const buf = Buffer.from(prefix, 'utf8');
  buf[buf.length - 1]++;
  return buf.toString('base64');
}

/**
 * A streaming POST (watch, keepalive): the response's `{"result":…}` lines as they arrive. The
 * request body is sent and ended at once unless `keepOpen`, then more JSON can be `send()`.
 */
export class LineStream {
  readonly lines: Msg[] = [];
  status = 0;
  headers: http.IncomingHttpHeaders = {};
  ended = false;
  private buf = '';
  private readonly req: http.ClientRequest;
  private waiters: Array<() => void> = [];
  private cursor = 0;

  constructor(t: Target, path: string, body: object | string, keepOpen = false) {
    this.req = http.request({ ...options(t, path, 'POST'), agent: false }, (res) => {
      this.status = res.statusCode ?? 0;
      this.headers = res.headers;
      res.on('data', (c: Buffer) => {
        this.buf += c.toString('utf8');
        let nl: number;
        while ((nl = this.buf.indexOf('\n')) >= 0) {
          this.lines.push(JSON.parse(this.buf.slice(0, nl)));
          this.buf = this.buf.slice(nl + 1);
        }
        this.wake();
      });
      res.on('end', () => {
        if (this.buf.trim()) this.lines.push(JSON.parse(this.buf));
        this.ended = true;
        this.wake();
      });
      res.on('error', () => undefined);
    });
    this.req.on('error', () => {
      this.ended = true;
      this.wake();
    });
    this.req.write(typeof body === 'string' ? body : JSON.stringify(body));
    if (!keepOpen) this.req.end();
  }

  send(body: object): void {
    this.req.write(JSON.stringify(body));
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  /** Waits for the next n lines not yet taken. */
  async next(n = 1, timeoutMs = 10_000): Promise<Msg[]> {
    const deadline = Date.now() + timeoutMs;
    while (this.lines.length < this.cursor + n) {
      if (this.ended) throw new Error(`stream ended after ${this.lines.length} lines: ${JSON.stringify(this.lines)}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out waiting for ${n} lines; got ${JSON.stringify(this.lines.slice(this.cursor))}`);
      await new Promise<void>((r) => {
        const t = setTimeout(r, left);
        this.waiters.push(() => {
          clearTimeout(t);
          r();
        });
      });
    }
    const out = this.lines.slice(this.cursor, this.cursor + n);
    this.cursor += n;
    return out;
  }

  /** Resolves once the server has ended the response. */
  async end(timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!this.ended) {
      if (Date.now() > deadline) throw new Error('stream did not end');
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  close(): void {
    this.req.destroy();
  }
}
