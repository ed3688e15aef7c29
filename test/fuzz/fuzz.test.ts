/**
 * The fuzzer: fast-check drives real requests into a running strata.
 * - protobuf: valid requests of every gRPC method, mutated (bits, bytes, cuts, stray fields,
 *   huge varints), sent raw: each answer is a success or a well-formed etcd error;
 * - JSON: valid gateway bodies mutated at the text or with arbitrary JSON values and deep nesting;
 * - ops: random sequences of puts, deletes, ranges and txns, each answer equal to the in-memory
 *   model the conformance oracle uses (test/conformance/model.ts);
 * - connection faults: garbage, cut prefaces, streams and sockets dropped halfway, beside normal
 *   traffic.
 * After each property the server must still serve and hold no stream of the clients that left.
 *
 * `npm test` runs it for a few seconds; `npm run fuzz` runs every property for STRATA_FUZZ_SECONDS
 * (default 600) each. A failure prints fast-check's seed and path: replay it with STRATA_FUZZ_SEED
 * and STRATA_FUZZ_PATH, and turn it into a regression test.
 */
import * as http from 'node:http';
import * as net from 'node:net';
import * as grpc from '@grpc/grpc-js';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { b, createClient, prefixEnd, type EtcdClient, type Msg } from '../helpers/client';
import { startStrata, type Server } from '../helpers/servers';
import { noBackendReason, testBackend, type BackendName } from '../helpers/targets';
import { MvccModel, ModelError, bytes, wireDelete, wirePut, wireRange, wireTxn } from '../conformance/model';
import { badGatewayReply, badStatus, grpcMethods, JSON_ROUTES, jsonMutationArb, mutate, mutateJson, mutationArb } from './wire';

const LONG = process.env.STRATA_FUZZ_SECONDS !== undefined;
/** Time per property. */
const BUDGET_MS = LONG ? Number(process.env.STRATA_FUZZ_SECONDS) * 1000 : 1500;
const params = (): fc.Parameters<unknown> => ({
  numRuns: LONG ? Number.MAX_SAFE_INTEGER : 10_000,
  interruptAfterTimeLimit: BUDGET_MS,
  markInterruptAsFailure: false,
  seed: process.env.STRATA_FUZZ_SEED ? Number(process.env.STRATA_FUZZ_SEED) : undefined,
  path: process.env.STRATA_FUZZ_PATH,
  endOnFailure: true,
});
const TIMEOUT = BUDGET_MS + 60_000;
/**
 * Where the fuzzed strata runs: STRATA_FUZZ_NODE names another node binary (a node 22, which lets
 * strata widen nghttp2's stream reset limit), STRATA_FUZZ_BACKEND another backend (better-sqlite3
 * is built for the node running the tests, so a node 22 strata runs on postgres or mysql).
 */
const FUZZ_NODE = process.env.STRATA_FUZZ_NODE;
const FUZZ_BACKEND = process.env.STRATA_FUZZ_BACKEND;

/** The options test/helpers/client.ts gives its clients: a client with them shares their connection. */
const SHARED_OPTIONS = { 'grpc.max_receive_message_length': -1, 'grpc.max_send_message_length': 8 * 1024 * 1024 };
/** A WatchRequest creating a watch on fuzz/…, encoded. */
const WATCH_CREATE = Buffer.from([0x0a, 0x0e, 0x0a, 0x05, ...Buffer.from('fuzz/'), 0x12, 0x05, ...Buffer.from('fuzz0')]);

/** Runs of each property, printed after a long run (how much the soak covered). */
const runs: Record<string, number> = {};
const count = (what: string): void => void (runs[what] = (runs[what] ?? 0) + 1);

/** One unary call with exactly these bytes; resolves the status (null on success). */
function rawUnary(client: grpc.Client, path: string, payload: Buffer): Promise<grpc.ServiceError | null> {
  return new Promise((resolve) => {
    client.makeUnaryRequest(
      path,
      (x: Buffer) => x,
      (x: Buffer) => x,
      payload,
      { deadline: Date.now() + 10_000 },
      (err) => resolve(err as grpc.ServiceError | null),
    );
  });
}

/** A bidi stream fed these messages then half-closed; resolves how it ended. */
function rawStream(client: grpc.Client, path: string, payloads: Buffer[]): Promise<grpc.StatusObject> {
  return new Promise((resolve) => {
    const call = client.makeBidiStreamRequest(
      path,
      (x: Buffer) => x,
      (x: Buffer) => x,
      { deadline: Date.now() + 10_000 },
    );
    call.on('data', () => undefined);
    call.on('error', () => undefined);
    call.on('status', (st: grpc.StatusObject) => resolve(st));
    for (const p of payloads) call.write(p);
    call.end();
  });
}

function postRaw(address: string, path: string, body: string, stream: boolean): Promise<{ status: number; text: string }> {
  const [host, port] = address.split(':');
  return new Promise((resolve, reject) => {
    let status = 0;
    let text = '';
    const req = http.request({ host, port, path, method: 'POST', agent: false }, (res) => {
      status = res.statusCode ?? 0;
      res.on('data', (d: Buffer) => (text += d.toString()));
      res.on('end', () => resolve({ status, text }));
    });
    // A watch lasts as long as its client (and may answer nothing): read what came within a
    // moment, then leave, keeping only complete lines.
    const timer = setTimeout(
      () => {
        req.destroy();
        if (stream) resolve({ status: status || 200, text: text.slice(0, text.lastIndexOf('\n') + 1) });
        else reject(new Error(`no answer to ${path} ${body.slice(0, 200)}`));
      },
      stream ? 150 : 10_000,
    );
    req.on('close', () => clearTimeout(timer));
    req.on('error', (e) => (stream ? resolve({ status: status || 200, text: '' }) : reject(e)));
    req.end(body);
  });
}

async function metric(address: string, name: string): Promise<string> {
  const [host, port] = address.split(':');
  return new Promise((resolve, reject) => {
    http
      .get({ host, port, path: '/metrics', agent: false }, (res) => {
        let text = '';
        res.on('data', (d: Buffer) => (text += d.toString()));
        res.on('end', () => resolve(text.split('\n').find((l) => l.startsWith(name)) ?? ''));
      })
      .on('error', reject);
  });
}

/** The server still serves, and has let go of every stream of clients that left. */
async function stillServing(s: Server, c: EtcdClient): Promise<void> {
  await c.kv.Put({ key: b('fuzz-alive'), value: b('yes') });
  expect((await c.kv.Range({ key: b('fuzz-alive') })).count).toBe('1');
  expect(s.proc.exitCode).toBeNull();
  for (let i = 0; i < 50; i++) {
    if ((await metric(s.address, 'strata_streams{kind="watch"}')) === 'strata_streams{kind="watch"} 0') break;
    await new Promise((r) => setTimeout(r, 100));
  }
  expect(await metric(s.address, 'strata_streams{kind="watch"}')).toBe('strata_streams{kind="watch"} 0');
  expect(await metric(s.address, 'strata_streams{kind="keepalive"}')).toBe('strata_streams{kind="keepalive"} 0');
}

describe('fuzz', () => {
  let server: Server;
  let client: EtcdClient;
  let raw: grpc.Client;
  beforeAll(async () => {
    const backend = FUZZ_BACKEND ? testBackend(FUZZ_BACKEND as BackendName) : undefined;
    if (FUZZ_BACKEND && !backend) throw new Error(`STRATA_FUZZ_BACKEND=${FUZZ_BACKEND}: ${noBackendReason([FUZZ_BACKEND as BackendName])}`);
    server = await startStrata({ node: FUZZ_NODE, endpoint: backend?.endpoint, onCleanup: backend?.drop });
    client = createClient(server.address);
    raw = new grpc.Client(server.address, grpc.credentials.createInsecure());
  });
  afterAll(async () => {
    if (LONG) console.log(`fuzz: ${BUDGET_MS / 1000} s per property, runs ${JSON.stringify(runs)}`);
    raw?.close();
    client?.close();
    if (server) {
      expect(await server.stop()).toBe(0);
      server.cleanup();
    }
  });

  it(
    'protobuf: mutated requests on every method get a success or a well-formed etcd error',
    async () => {
      const methods = grpcMethods();
      expect(methods.length).toBeGreaterThan(35);
      await fc.assert(
        fc.asyncProperty(fc.constantFrom(...methods), fc.array(mutationArb, { minLength: 1, maxLength: 4 }), async (m, muts) => {
          count('protobuf');
          const msg = mutate(m.valid, muts);
          if (m.stream) {
            const st = await rawStream(raw, m.path, [m.valid, msg, msg]);
            if (st.code !== grpc.status.OK) expect(badStatus(st.code, st.details), `${m.path} ${msg.toString('hex')}`).toBeUndefined();
            return;
          }
          const err = await rawUnary(raw, m.path, msg);
          if (err) expect(badStatus(err.code, err.details), `${m.path} ${msg.toString('hex')}`).toBeUndefined();
        }),
        params(),
      );
      await stillServing(server, client);
    },
    TIMEOUT,
  );

  it(
    'JSON: mutated gateway bodies get a success or an etcd error body',
    async () => {
      await fc.assert(
        fc.asyncProperty(fc.constantFrom(...JSON_ROUTES), fc.array(jsonMutationArb, { minLength: 1, maxLength: 3 }), async (r, muts) => {
          count('json');
          const body = mutateJson(JSON.stringify(r.body), muts);
          const { status, text } = await postRaw(server.address, r.path, body, r.stream === true);
          expect(badGatewayReply(status, text, r.stream === true), `${r.path} ${body.slice(0, 300)}`).toBeUndefined();
        }),
        params(),
      );
      await stillServing(server, client);
    },
    TIMEOUT,
  );

  it(
    'ops: random puts, deletes, ranges and txns answer as the model does',
    async () => {
      let run = 0;
      const suffix = fc.constantFrom('a', 'b', 'c', 'd', '\x00', '\xff');
      const value = fc.constantFrom('', 'x', 'yy', '\x00\xff');
      const opArb = fc.oneof(
        fc.record({ op: fc.constant('put' as const), k: suffix, v: value, prev: fc.boolean() }),
        fc.record({ op: fc.constant('del' as const), k: suffix, end: fc.option(suffix, { nil: undefined }), prev: fc.boolean() }),
        fc.record({
          op: fc.constant('range' as const),
          k: suffix,
          end: fc.option(fc.constantFrom('b', 'd', '\xff', 'ALL'), { nil: undefined }),
          limit: fc.integer({ min: 0, max: 3 }),
          countOnly: fc.boolean(),
        }),
        fc.record({
          op: fc.constant('txn' as const),
          k: suffix,
          target: fc.constantFrom('VERSION', 'MOD', 'VALUE'),
          result: fc.constantFrom('EQUAL', 'GREATER', 'LESS', 'NOT_EQUAL'),
          n: fc.integer({ min: 0, max: 6 }),
          then: fc.array(fc.record({ k: suffix, v: value, del: fc.boolean() }), { maxLength: 3 }),
          otherwise: fc.array(fc.record({ k: suffix, v: value, del: fc.boolean() }), { maxLength: 2 }),
        }),
      );
      await fc.assert(
        fc.asyncProperty(fc.array(opArb, { minLength: 1, maxLength: 25 }), async (ops) => {
          count('ops');
          const P = `fuzz-ops/${String(run++).padStart(8, '0')}/`;
          const key = (s: string) => bytes(P + s);
          const mark = await client.kv.Put({ key: bytes(P.slice(0, -1)), value: b('') });
          const base = Number(mark.header.revision);
          await client.kv.Compact({ revision: base });
          const m = new MvccModel(base, base);
          for (const o of ops) {
            let req: Msg;
            let call: () => Promise<unknown>;
            let model: () => unknown;
            switch (o.op) {
              case 'put':
                req = { key: key(o.k), value: bytes(o.v), prev_kv: o.prev };
                call = async () => wirePut(await client.kv.Put(req));
                model = () => m.put(req);
                break;
              case 'del':
                req = { key: key(o.k), range_end: o.end !== undefined && o.end > o.k ? key(o.end) : b(''), prev_kv: o.prev };
                call = async () => wireDelete(await client.kv.DeleteRange(req));
                model = () => m.deleteRange(req);
                break;
              case 'range':
                req = {
                  key: key(o.k),
                  range_end: o.end === 'ALL' ? prefixEnd(P) : o.end !== undefined ? key(o.end) : b(''),
                  limit: o.limit,
                  count_only: o.countOnly,
                };
                call = async () => wireRange(await client.kv.Range(req));
                model = () => m.range(req);
                break;
              case 'txn': {
                const cur = m.peek(P + o.k);
                const cmp: Msg = { key: key(o.k), target: o.target, result: o.result };
                if (o.target === 'VERSION') cmp.version = o.n % 3;
                if (o.target === 'MOD') cmp.mod_revision = cur ? cur.mod_revision + (o.n % 3) - 1 : 0;
                if (o.target === 'VALUE') cmp.value = bytes(o.n % 2 === 0 && cur ? cur.value : 'x');
                const branch = (xs: Array<{ k: string; v: string; del: boolean }>) =>
                  xs.map((x) =>
                    x.del ? { request_delete_range: { key: key(x.k) } } : { request_put: { key: key(x.k), value: bytes(x.v) } },
                  );
                req = { compare: [cmp], success: branch(o.then), failure: branch(o.otherwise) };
                call = async () => wireTxn(await client.kv.Txn(req));
                model = () => m.txn(req);
                break;
              }
            }
            let want: unknown;
            try {
              want = { ok: model() };
            } catch (e) {
              if (!(e instanceof ModelError)) throw e;
              want = { err: { code: e.code, details: e.details } };
            }
            let got: unknown;
            try {
              got = { ok: await call() };
            } catch (e) {
              const ge = e as grpc.ServiceError;
              got = { err: { code: ge.code, details: ge.details } };
            }
            expect(got, `${o.op} ${JSON.stringify(o)}`).toEqual(want);
          }
        }),
        params(),
      );
      await stillServing(server, client);
    },
    TIMEOUT,
  );

  it(
    'connection faults: garbage, cut prefaces and dropped streams beside normal traffic',
    async () => {
      const [host, port] = server.address.split(':');
      const PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n');
      const faultArb = fc.oneof(
        fc.record({ kind: fc.constant('garbage' as const), data: fc.uint8Array({ minLength: 1, maxLength: 256 }) }),
        fc.record({ kind: fc.constant('preface' as const), cut: fc.nat({ max: PREFACE.length }), data: fc.uint8Array({ maxLength: 64 }) }),
        fc.record({ kind: fc.constant('http1' as const), cut: fc.nat({ max: 120 }) }),
        fc.record({ kind: fc.constant('watch-drop' as const), afterMs: fc.integer({ min: 0, max: 30 }) }),
        fc.record({ kind: fc.constant('call-cancel' as const), afterMs: fc.integer({ min: 0, max: 5 }) }),
      );
      const sendAndDrop = (data: Buffer, ms: number) =>
        new Promise<void>((resolve) => {
          const sock = net.connect(Number(port), host, () => {
            sock.write(data);
            setTimeout(() => sock.destroy(), ms);
          });
          sock.on('error', () => undefined);
          sock.on('close', () => resolve());
        });
      await fc.assert(
        fc.asyncProperty(fc.array(faultArb, { minLength: 1, maxLength: 4 }), async (faults) => {
          count('faults');
          const traffic = client.kv.Put({ key: b('fuzz-faults'), value: b('v') });
          await Promise.all(
            faults.map(async (f) => {
              switch (f.kind) {
                case 'garbage':
                  return sendAndDrop(Buffer.from(f.data), 5);
                case 'preface':
                  return sendAndDrop(Buffer.concat([PREFACE.subarray(0, f.cut), f.data]), 5);
                case 'http1': {
                  const req = `POST /v3/kv/range HTTP/1.1\r\nHost: x\r\nContent-Length: 40\r\n\r\n{"key":"${b('a').toString('base64')}"}`;
                  return sendAndDrop(Buffer.from(req.slice(0, f.cut)), 5);
                }
                case 'watch-drop': {
                  // Sharing the normal client's connection (grpc-js pools connections of clients with
                  // the same options) is what the soak found failing: about one run in 1,300–2,500
                  // ends that connection with a GOAWAY INTERNAL_ERROR from node's HTTP/2 layer itself
                  // (a bare node:http2 server with no grpc-js does the same; etcd's Go server never).
                  // Only the soak shares it, so the suite does not fail on node's behaviour.
                  const opts = LONG ? SHARED_OPTIONS : { 'grpc.use_local_subchannel_pool': 1 };
                  const c = new grpc.Client(server.address, grpc.credentials.createInsecure(), opts);
                  const w = c.makeBidiStreamRequest(
                    '/etcdserverpb.Watch/Watch',
                    (x: Buffer) => x,
                    (x: Buffer) => x,
                  );
                  w.on('error', () => undefined);
                  w.on('data', () => undefined);
                  w.write(WATCH_CREATE);
                  await new Promise((r) => setTimeout(r, f.afterMs));
                  c.close();
                  w.cancel();
                  return;
                }
                case 'call-cancel': {
                  const c = new grpc.Client(server.address, grpc.credentials.createInsecure());
                  const call = c.makeUnaryRequest(
                    '/etcdserverpb.KV/Range',
                    (x: Buffer) => x,
                    (x: Buffer) => x,
                    Buffer.concat([Buffer.from([0x0a, 0x01]), b('a')]),
                    () => undefined,
                  );
                  await new Promise((r) => setTimeout(r, f.afterMs));
                  call.cancel();
                  c.close();
                  return;
                }
              }
            }),
          );
          await traffic.catch((e: Error) => {
            throw new Error(`normal traffic failed: ${e.message}\nserver log:\n${server.logs().slice(-4000)}`);
          });
        }),
        params(),
      );
      await stillServing(server, client);
    },
    TIMEOUT,
  );
});
