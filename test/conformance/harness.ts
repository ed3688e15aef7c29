/**
 * Shared plumbing for the backend-conformance suite: one server per file per target, a client,
 * and small helpers for revisions, errors and key/value views. Every test file calls
 * `forEachTarget(name, ctx => { ...tests... })`; the tests inside only ever talk gRPC to
 * `ctx.c`, so the same file runs unchanged against strata on every backend and (with
 * STRATA_TEST_AGAINST=etcd) against the real etcd.
 *
 * Every response header must name the server that answered: the cluster_id, member_id and
 * raft_term it reports in Status (and MemberList) when the file starts. `ctx.c` checks that on
 * every KV and Lease response, and `ctx.track` on every response of a tracked stream (after the
 * test), so no test has to repeat it.
 */
import type * as grpc from '@grpc/grpc-js';
import { afterAll, afterEach, beforeAll, describe, expect } from 'vitest';
import { AGAINST } from '../helpers/against';
import { noBackendReason, skippedSuite, targets, type Target } from '../helpers/targets';
import type { Server } from '../helpers/servers';
import { createClient, s, WatchReader, type EtcdClient, type Msg, type Service } from '../helpers/client';
import { headerAt, identityOf, readIdentity, type Identity } from '../helpers/identity';

export interface Ctx {
  target: Target;
  server: Server;
  c: EtcdClient;
  /** Reported server version (Maintenance.Status), e.g. "3.4.23" or "3.5.13". */
  version: string;
  /** The server's identity as Status reported it when the file started. */
  identity: Identity;
  /** The whole response header this server sends at revision `rev`. */
  header(rev: number): Msg;
  /** Streams opened by a test; closed after each test even when it fails. */
  track<T extends { close(): void }>(x: T): T;
  /** A fresh key prefix, unique within this file's server. */
  prefix(name: string): string;
}

/** The client with every KV and Lease response's header checked against `identity`. */
function checkingHeaders(c: EtcdClient, identity: Identity): EtcdClient {
  const wrap = (service: string, svc: Service): Service =>
    Object.fromEntries(
      Object.entries(svc).map(([method, call]) => [
        method,
        async (req?: Msg, md?: grpc.Metadata) => {
          const r = await call(req, md);
          expect(identityOf(r.header), `${service}.${method} response header`).toEqual(identity);
          return r;
        },
      ]),
    );
  return { ...c, kv: wrap('KV', c.kv), lease: wrap('Lease', c.lease) };
}

/** gRPC status codes used by etcd (numeric, as grpc-js reports them). */
export const Code = {
  Canceled: 1,
  InvalidArgument: 3,
  NotFound: 5,
  PermissionDenied: 7,
  ResourceExhausted: 8,
  FailedPrecondition: 9,
  OutOfRange: 11,
  Unavailable: 14,
} as const;

/** etcd's error messages, byte for byte (etcd-clients.md §0.1). */
export const Err = {
  compacted: 'etcdserver: mvcc: required revision has been compacted',
  future: 'etcdserver: mvcc: required revision is a future revision',
  duplicateKey: 'etcdserver: duplicate key given in txn request',
  emptyKey: 'etcdserver: key is not provided',
  keyNotFound: 'etcdserver: key not found',
  valueProvided: 'etcdserver: value is provided',
  leaseProvided: 'etcdserver: lease is provided',
  leaseNotFound: 'etcdserver: requested lease not found',
  leaseExists: 'etcdserver: lease already exists',
  leaseTTLTooLarge: 'etcdserver: too large lease TTL',
  tooManyOps: 'etcdserver: too many operations in txn request',
  tooLarge: 'etcdserver: request is too large',
} as const;

/** Registers one describe block per conformance target, each with its own server. */
export function forEachTarget(suite: string, body: (ctx: Ctx) => void): void {
  const list = targets();
  if (list.length === 0) return skippedSuite(suite, AGAINST === 'etcd' ? 'no etcd binary here' : noBackendReason());
  for (const target of list) {
    describe(`${suite} [${target.name}]`, () => {
      const open: Array<{ close(): void }> = [];
      const readers: WatchReader[] = [];
      let seq = 0;
      const ctx: Ctx = {
        target,
        server: undefined as unknown as Server,
        c: undefined as unknown as EtcdClient,
        version: '',
        identity: undefined as unknown as Identity,
        header: (rev) => headerAt(ctx.identity, rev),
        track(x) {
          open.push(x);
          if (x instanceof WatchReader) readers.push(x);
          return x;
        },
        prefix(name) {
          seq++;
          return `/conf/${suite}/${String(seq).padStart(3, '0')}-${name}/`;
        },
      };
      beforeAll(async () => {
        ctx.server = await target.start();
        const c = createClient(ctx.server.address);
        ({ identity: ctx.identity, version: ctx.version } = await readIdentity(c));
        ctx.c = checkingHeaders(c, ctx.identity);
      });
      afterEach(() => {
        for (const x of open.splice(0)) {
          try {
            x.close();
          } catch {
            // already closed
          }
        }
        for (const r of readers.splice(0)) {
          for (const m of r.responses)
            expect(identityOf(m.header), `header of stream response ${JSON.stringify(m).slice(0, 200)}`).toEqual(ctx.identity);
        }
      });
      afterAll(async () => {
        ctx.c?.close();
        if (ctx.server) {
          await ctx.server.stop();
          ctx.server.cleanup();
        }
      });
      body(ctx);
    });
  }
}

/** int64 fields arrive as decimal strings; revisions and counts fit in a safe integer. */
export function n(x: unknown): number {
  const v = Number(x);
  if (!Number.isSafeInteger(v)) throw new Error(`not a safe integer: ${String(x)}`);
  return v;
}

/** header.revision of a response, as a number. */
export function hrev(m: Msg): number {
  expect(m.header, 'response has a header').toBeTruthy();
  return n(m.header.revision);
}

/** The store's current revision, read with a Range of a key nobody writes. */
export async function currentRev(c: EtcdClient): Promise<number> {
  return hrev(await c.kv.Range({ key: Buffer.from('/conf/__revision_probe__') }));
}

/** A KeyValue with strings for bytes and numbers for revisions; easy to compare with toEqual. */
export interface KV {
  key: string;
  create_revision: number;
  mod_revision: number;
  version: number;
  value: string;
  lease: string;
}
export function kv(m: Msg | null | undefined): KV | null {
  if (!m) return null;
  return {
    key: s(m.key),
    create_revision: n(m.create_revision),
    mod_revision: n(m.mod_revision),
    version: n(m.version),
    value: s(m.value),
    lease: String(m.lease ?? '0'),
  };
}
export const kvs = (m: Msg): KV[] => (m.kvs as Msg[]).map((x) => kv(x) as KV);
export const keysOf = (m: Msg): string[] => (m.kvs as Msg[]).map((x) => s(x.key));

/** Runs `n` tasks with at most `width` in flight; resolves with results in task order. */
export async function pool<T>(count: number, width: number, task: (i: number) => Promise<T>): Promise<T[]> {
  const out: T[] = new Array(count);
  let next = 0;
  const workers = Array.from({ length: Math.min(width, count) }, async () => {
    for (;;) {
      const i = next++;
      if (i >= count) return;
      out[i] = await task(i);
    }
  });
  await Promise.all(workers);
  return out;
}
