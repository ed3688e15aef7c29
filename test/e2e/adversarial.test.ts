/**
 * Hostile requests answered as etcd answers them, checked side by side against the real etcd:
 * txns nested to and past the op limit (no committed write may answer an error), JSON nested past
 * Go's depth limit, base64 without its padding.
 */
import * as grpc from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { b, createClient, type EtcdClient } from '../helpers/client';
import { ETCD_BIN, haveTool, startEtcd, startStrata, type Server } from '../helpers/servers';
import * as http from 'node:http';
import * as http2 from 'node:http2';
import { post } from '../gateway/http';

function varint(n: number): Buffer {
  const out: number[] = [];
  while (n > 127) {
    out.push((n & 127) | 128);
    n = Math.floor(n / 128);
  }
  out.push(n);
  return Buffer.from(out);
}
const field = (no: number, payload: Buffer) => Buffer.concat([varint((no << 3) | 2), varint(payload.length), payload]);

/**
 * `depth` TxnRequests, each the only success op of its parent, the innermost putting `key` (or
 * empty). Built by hand: protobufjs on the client side would stop at its own recursion limit.
 */
function nestedTxn(depth: number, key?: string): Buffer {
  const inner = key ? field(2, field(2, Buffer.concat([field(1, b(key)), field(2, b('v'))]))) : Buffer.alloc(0);
  // Every level is only a prefix (two tags and lengths) before the innermost txn: lengths first, one copy.
  const heads: Buffer[] = [];
  let len = inner.length;
  for (let i = 1; i < depth; i++) {
    const op = Buffer.concat([varint((4 << 3) | 2), varint(len)]);
    const head = Buffer.concat([varint((2 << 3) | 2), varint(op.length + len), op]);
    heads.push(head);
    len += head.length;
  }
  return Buffer.concat([...heads.reverse(), inner]);
}

function nestedJson(depth: number, key?: string): string {
  let t: object = key ? { success: [{ request_put: { key: b(key).toString('base64'), value: 'dg==' } }] } : {};
  for (let i = 1; i < depth; i++) t = { success: [{ request_txn: t }] };
  return JSON.stringify(t);
}

type Outcome = { ok: true } | { code: number; details: string };

function rawTxn(client: grpc.Client, payload: Buffer): Promise<Outcome> {
  return new Promise((resolve) => {
    client.makeUnaryRequest(
      '/etcdserverpb.KV/Txn',
      (x: Buffer) => x,
      (x: Buffer) => x,
      payload,
      { deadline: Date.now() + 10_000 },
      (err) => resolve(err ? { code: err.code, details: err.details } : { ok: true }),
    );
  });
}

/** A gRPC message as it goes on the wire: flag, length (as given, even if wrong), payload. */
function frame(flag: number, length: number, payload: Buffer): Buffer {
  const head = Buffer.alloc(5);
  head[0] = flag;
  head.writeUInt32BE(length, 1);
  return Buffer.concat([head, payload]);
}

/** One request stream over HTTP/2 with exactly these bytes as its body; the status it ends with. */
function rawStream(address: string, path: string, body: Buffer, headers: http2.OutgoingHttpHeaders = {}, end = true): Promise<unknown> {
  return new Promise((resolve) => {
    const session = http2.connect(`http://${address}`);
    session.on('error', () => undefined);
    const st = session.request({ ':method': 'POST', ':path': path, 'content-type': 'application/grpc', te: 'trailers', ...headers });
    let status: http2.IncomingHttpHeaders = {};
    st.on('response', (h) => (status = h));
    st.on('trailers', (t) => (status = { ...status, ...t }));
    st.on('data', () => undefined);
    st.on('error', () => undefined);
    st.on('close', () => {
      session.close();
      const code = status['grpc-status'];
      // grpc-js says "OK" where grpc-go says nothing: only an error's message is compared.
      resolve({ code, message: code === '0' ? '' : decodeURIComponent(String(status['grpc-message'] ?? '')) });
    });
    if (end) st.end(body);
    else st.write(body);
  });
}

const DEPTHS = [50, 51, 128, 129, 130, 1000, 100_000];

interface Side {
  server: Server;
  client: EtcdClient;
  raw: grpc.Client;
}

const etcdHere = haveTool(ETCD_BIN, 'etcd');

describe.skipIf(!etcdHere)('adversarial requests, strata beside etcd', () => {
  const sides: Side[] = [];
  beforeAll(async () => {
    for (const server of await Promise.all([startStrata(), startEtcd()])) {
      const raw = new grpc.Client(server.address, grpc.credentials.createInsecure(), { 'grpc.max_send_message_length': -1 });
      sides.push({ server, client: createClient(server.address), raw });
    }
  });
  afterAll(async () => {
    for (const s of sides) {
      s.raw.close();
      s.client.close();
      const code = await s.server.stop();
      if (s.server.kind === 'strata') expect(code).toBe(0);
      s.server.cleanup();
    }
  });

  /** Runs `f` on both servers and expects the same answer; returns it. */
  async function same<T>(what: string, f: (s: Side) => Promise<T>): Promise<T> {
    const [strata, etcd] = await Promise.all(sides.map(f));
    expect(strata, what).toEqual(etcd);
    return etcd;
  }

  const present = async (s: Side, key: string) => (await s.client.kv.Range({ key: b(key), count_only: true })).count;

  it('gRPC: a txn nested up to the op limit commits and says so; past it, too many operations and nothing written', async () => {
    for (const depth of DEPTHS) {
      for (const key of [`grpc-${depth}`, undefined]) {
        const what = `${depth} deep, ${key ? 'a put' : 'empty'} innermost`;
        const got = await same(what, (s) => rawTxn(s.raw, nestedTxn(depth, key)));
        if (key) await same(`${what}: written`, (s) => present(s, key));
        if (depth === 128 && key) expect(got, what).toEqual({ ok: true });
        if (depth === 129 && key) expect(got, what).toEqual({ code: 3, details: 'etcdserver: too many operations in txn request' });
      }
    }
    expect(await present(sides[0], 'grpc-128')).toBe('1');
    expect(await present(sides[0], 'grpc-129')).toBe('0');
  });

  it('gateway: the same nesting as JSON', async () => {
    for (const depth of DEPTHS.filter((d) => d <= 1000)) {
      for (const key of [`gw-${depth}`, undefined]) {
        const what = `${depth} deep, ${key ? 'a put' : 'empty'} innermost`;
        const got = await same(what, async (s) => {
          const r = await post(s.server.url, '/v3/kv/txn', nestedJson(depth, key));
          return { status: r.status, error: r.json?.error as unknown, succeeded: r.json?.succeeded as unknown };
        });
        if (key) await same(`${what}: written`, (s) => present(s, key));
        if (depth === 128 && key) expect(got.status, what).toBe(200);
      }
    }
  });

  it("gateway: JSON past Go's depth limit, and base64 without its padding, are refused with etcd's words", async () => {
    const bodies: Array<[string, string]> = [
      ['/v3/kv/range', '['.repeat(10_000) + ']'.repeat(10_000)],
      ['/v3/kv/range', '['.repeat(10_001)],
      ['/v3/kv/range', `{"key":${'['.repeat(100_000)}`],
      ['/v3/kv/range', '{"a":'.repeat(10_001)],
      ['/v3/watch', '['.repeat(100_000)],
      ['/v3/kv/range', '{"key":"YQ"}'],
      ['/v3/kv/range', '{"key":"YQ="}'],
      ['/v3/kv/range', '{"key":"Y"}'],
      ['/v3/kv/range', '{"key":"YW Jj"}'],
      ['/v3/kv/range', '{"key":"YWJj\\n"}'],
      ['/v3/kv/range', '{"key":"YQ==\\r\\n"}'],
      ['/v3/kv/range', '{"key":"YQ==x"}'],
      ['/v3/kv/range', '1.x'],
      ['/v3/kv/range', '1ex'],
      ['/v3/kv/range', 'tx'],
      ['/v3/kv/range', '"\\u12x4"'],
    ];
    for (const [path, body] of bodies) {
      await same(`${path} ${body.slice(0, 40)}`, async (s) => {
        const r = await post(s.server.url, path, body);
        return { status: r.status, error: r.json?.error as unknown, code: r.json?.code as unknown };
      });
    }
  });

  it("gateway: a path that is not clean is redirected to the clean one, as Go's ServeMux does", async () => {
    const paths = [
      '/v3/kv/../kv/range',
      '/v3//kv/range',
      '/v3/kv/./range',
      '/v3/kv/range/',
      '/v3/./kv/range?x=1',
      '/v3beta/kv/../kv/range',
      '/foo/../v3/kv/range',
      '/health/../health',
    ];
    for (const path of paths) {
      const got = await same(path, async (s) => {
        const [host, port] = s.server.address.split(':');
        // The path as given: URL parsing (as the shared helper does it) would clean it first.
        return new Promise((resolve, reject) => {
          const req = http.request({ host, port, path, method: 'POST', agent: false }, (res) => {
            res.resume();
            res.on('end', () => resolve({ status: res.statusCode, location: res.headers.location }));
          });
          req.on('error', reject);
          req.end('{"key":"YQ=="}');
        });
      });
      if (path === '/v3/kv/../kv/range') expect(got).toEqual({ status: 301, location: '/v3/kv/range' });
    }
  });

  it('gRPC framing: a compressed flag without an encoding, an unknown flag, cut and missing messages, a compression etcd lacks are refused as etcd refuses them', async () => {
    const put = (key: string) => Buffer.concat([field(1, b(key)), field(2, b('v'))]);
    const create = field(1, field(1, b('a')));
    const cases: Array<[string, string, Buffer, http2.OutgoingHttpHeaders?, boolean?]> = [
      ['compressed, no encoding', '/etcdserverpb.KV/Put', frame(1, put('frame-1').length, put('frame-1'))],
      ['compressed, identity', '/etcdserverpb.KV/Put', frame(1, put('frame-2').length, put('frame-2')), { 'grpc-encoding': 'identity' }],
      ['flag 2', '/etcdserverpb.KV/Put', frame(2, put('frame-3').length, put('frame-3'))],
      ['payload cut', '/etcdserverpb.KV/Put', frame(0, 100, put('frame-4'))],
      ['prefix cut', '/etcdserverpb.KV/Put', Buffer.from([0, 0, 0])],
      ['no message', '/etcdserverpb.KV/Put', Buffer.alloc(0)],
      ['two messages', '/etcdserverpb.KV/Put', Buffer.concat([frame(0, put('frame-5').length, put('frame-5')), frame(0, 3, b('abc'))])],
      ['watch compressed', '/etcdserverpb.Watch/Watch', frame(1, create.length, create)],
      ['watch cut', '/etcdserverpb.Watch/Watch', frame(0, 100, create)],
      ['watch compressed, client still sending', '/etcdserverpb.Watch/Watch', frame(1, create.length, create), {}, false],
      ['keepalive compressed', '/etcdserverpb.Lease/LeaseKeepAlive', frame(1, 2, Buffer.from([8, 1]))],
      ['gzip encoding', '/etcdserverpb.KV/Put', frame(0, put('frame-6').length, put('frame-6')), { 'grpc-encoding': 'gzip' }],
      ['watch, gzip encoding', '/etcdserverpb.Watch/Watch', frame(0, create.length, create), { 'grpc-encoding': 'gzip' }],
    ];
    for (const [what, path, body, headers, end] of cases) {
      const got = await same(what, (s) => rawStream(s.server.address, path, body, headers, end));
      if (what === 'compressed, no encoding')
        expect(got).toEqual({ code: '13', message: 'grpc: compressed flag set with identity or empty encoding' });
      if (what === 'gzip encoding')
        expect(got).toEqual({ code: '12', message: 'grpc: Decompressor is not installed for grpc-encoding "gzip"' });
    }
    for (const key of ['frame-1', 'frame-2', 'frame-3', 'frame-4', 'frame-5', 'frame-6'])
      await same(`${key} written`, (s) => present(s, key));
    expect(await present(sides[0], 'frame-1')).toBe('0');
    expect(await present(sides[0], 'frame-5')).toBe('1');
    // A refused stream leaves no watch session behind.
    const metrics = await new Promise<string>((resolve) =>
      http.get(`${sides[0].server.url}/metrics`, (res) => {
        let text = '';
        res.on('data', (d: Buffer) => (text += d.toString()));
        res.on('end', () => resolve(text));
      }),
    );
    expect(metrics).toMatch(/^strata_streams\{kind="watch"\} 0$/m);
  });
});
