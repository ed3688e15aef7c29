/**
 * Differential harness: the same request sequences go to the real etcd (the reference, Debian's
 * 3.4.23) and to strata, and every step's response is compared field by field after normalising.
 *
 * - STRATA_TEST_AGAINST=etcd makes the second side ALSO a real etcd. That is how the harness and the
 *   cases are validated: every case must pass etcd-vs-etcd, which proves that what we compare is
 *   deterministic and that the normaliser drops exactly what differs between two healthy servers.
 * - DIFF_VERBOSE=1 prints each step's normalised etcd response (handy to see what etcd really does).
 *
 * Model
 * - A case is a list of steps. Each step is a function of one `Side` (a client plus per-side state)
 *   and is run on both sides at the same time; the two results are normalised and compared with
 *   `expect(peer, '<case> › step N "<name>"').toEqual(etcd)`, so a failure names the step and
 *   shows a readable diff. A gRPC error is a result too: `{ error: { code, name, details } }`
 *   (details = the status message, compared byte for byte). Any other exception fails the case.
 * - A step may declare fields that legitimately differ (`ignore`), numeric fields that may differ by
 *   a tolerance (`tolerance`, e.g. remaining lease TTL ±1 s), a `post` transform applied to both
 *   normalised results (e.g. to sort a list whose order etcd leaves undefined), a `check` run on each
 *   side (shape assertions where values may not be compared), and `etcd`, a partial expectation on
 *   the etcd side (toMatchObject) that documents what etcd was observed to do and guarantees the
 *   step really exercises what its name says even though etcd-vs-etcd would pass anyway.
 * - `peerOnly` marks the rare request the reference cannot take (etcd 3.4 panics on an unknown
 *   sort_target): it is sent to strata only and checked against a fixed expectation, and skipped
 *   under STRATA_TEST_AGAINST=etcd.
 *
 * Servers and revisions (the speed/isolation trade-off)
 * - Each test file starts ONE pair of servers (etcd + peer) shared by its cases. Each case gets its
 *   own key prefix (`/<file>/<NN>/`, zero-padded so later cases sort after earlier ones), its own
 *   clients and its own watch streams. Before its first step the harness reads the current revision
 *   on each side (`base`), and the normaliser rewrites every revision field (header.revision,
 *   create_revision, mod_revision, compact_revision) as `base+N` (0 stays 0, which means "none").
 *   Requests that need a revision use `s.rev(N)` = base+N on that side. So a case compares
 *   revisions RELATIVE to its own start: a divergence in one case (e.g. a spurious extra revision)
 *   does not cascade into the following cases, yet every revision the case creates is checked.
 * - A case marked `fresh: true` gets its own new pair of servers and compares ABSOLUTE revisions
 *   (an empty store is revision 1, the first write is 2, ...). Use it when the case depends on
 *   global state: whole-keyspace ranges (key "\0"/range_end "\0"), from-key ranges, LeaseLeases,
 *   values that embed absolute revisions, or absolute-revision assertions.
 * - Compaction is global, but it is safe in shared mode: a case compacts at a revision inside its
 *   own window, and every later case only reads at revisions >= its own (later) base.
 * - Leases are global: shared cases use client-chosen lease IDs that are unique per file, or
 *   server-assigned IDs registered with `s.alias(name, id)`; the normaliser then prints a known ID
 *   as `<lease name>` in `ID` and `lease` fields, so server-assigned IDs compare equal.
 * - Watches opened with `s.watch(name)` are read with a cursor (`next(n)`). At the end of a case the
 *   harness waits briefly and compares the responses nobody consumed, so an extra (or missing)
 *   response on one side fails the case instead of going unnoticed.
 */
import { existsSync } from 'node:fs';
import * as grpc from '@grpc/grpc-js';
import { beforeAll, afterAll, describe, expect, test } from 'vitest';
import { createClient, WatchReader, b, prefixEnd, type EtcdClient, type Msg } from '../helpers/client';
import { ETCD_BIN, STRATA_BIN, haveTool, startEtcd, startStrata, type Server } from '../helpers/servers';
import { AGAINST } from '../helpers/against';
import { readIdentity, type Identity } from '../helpers/identity';
import { note, skipped } from '../helpers/notice';
import { sleep } from '../helpers/ports';

export { b, prefixEnd };
export type { Msg };

/** What the second side is: strata (default) or, to validate the suite, another real etcd. */
export const PEER = AGAINST;
export const VERBOSE = process.env.DIFF_VERBOSE === '1';

// ------------------------------------------------------------------------------------------------
// Servers

/** One side's server and the identity it reported at start (its Status, checked against MemberList). */
export interface Member {
  server: Server;
  identity: Identity;
}

export interface Pair {
  etcd: Member;
  peer: Member;
}

async function startPeer(args: string[] = []): Promise<Server> {
  if (PEER === 'etcd') return startEtcd({ args });
  if (!existsSync(STRATA_BIN)) {
    throw new Error(`strata is not built (${STRATA_BIN} missing): run \`npm run build\`, or set STRATA_TEST_AGAINST=etcd`);
  }
  return startStrata({ args });
}

async function stopServer(s: Server): Promise<void> {
  await s.stop();
  s.cleanup();
}

async function member(server: Server): Promise<Member> {
  const c = createClient(server.address);
  try {
    return { server, identity: (await readIdentity(c)).identity };
  } finally {
    c.close();
  }
}

/** `args`: flags both servers take with the same meaning (etcd's, e.g. --auth-token-ttl). */
export async function startPair(args: string[] = []): Promise<Pair> {
  const [e, p] = await Promise.allSettled([startEtcd({ args }), startPeer(args)]);
  if (e.status === 'fulfilled' && p.status === 'fulfilled') {
    try {
      const [etcd, peer] = await Promise.all([member(e.value), member(p.value)]);
      return { etcd, peer };
    } catch (err) {
      await Promise.all([stopServer(e.value), stopServer(p.value)]);
      throw err;
    }
  }
  for (const r of [e, p]) if (r.status === 'fulfilled') await stopServer(r.value);
  throw e.status === 'rejected' ? e.reason : (p as PromiseRejectedResult).reason;
}

export async function stopPair(p: Pair | undefined): Promise<void> {
  if (!p) return;
  await Promise.all([stopServer(p.etcd.server), stopServer(p.peer.server)]);
}

// ------------------------------------------------------------------------------------------------
// Per-side state

/** A watch stream read with a cursor: `next(n)` returns the next n responses not yet consumed. */
export class Watcher {
  readonly reader: WatchReader;
  private cursor = 0;
  constructor(c: EtcdClient, metadata?: grpc.Metadata) {
    this.reader = new WatchReader(c.watch(metadata));
  }
  send(req: Msg): void {
    this.reader.send(req);
  }
  async next(n: number, timeoutMs = 10_000): Promise<Msg[]> {
    const want = this.cursor + n;
    await this.reader.until((rs) => rs.length >= want, timeoutMs);
    const out = this.reader.responses.slice(this.cursor, want);
    this.cursor = want;
    return out;
  }
  /** Responses received but not consumed by next(). */
  rest(): Msg[] {
    return this.reader.responses.slice(this.cursor);
  }
  close(): void {
    this.reader.close();
  }
}

export class Side {
  /** Revision read before the case's first step. */
  base = 0;
  private readonly vars = new Map<string, unknown>();
  /** raw int64 id (decimal string) → alias name, and back. */
  readonly idToAlias = new Map<string, string>();
  private readonly aliasToId = new Map<string, string>();
  readonly watches = new Map<string, Watcher>();

  constructor(
    readonly name: string,
    readonly c: EtcdClient,
    readonly prefix: string,
    /** The server's client URL (http://host:port). */
    readonly url: string,
    /** What the server said it is; its response headers must repeat it. */
    readonly identity: Identity,
  ) {}

  /** A key under this case's prefix. */
  k(suffix: string | Buffer = ''): Buffer {
    return Buffer.concat([b(this.prefix), Buffer.from(suffix)]);
  }
  /** The range_end covering every key under this case's prefix (optionally under prefix+sub). */
  end(sub: string | Buffer = ''): Buffer {
    return prefixEnd(this.k(sub));
  }
  /** base + n, as the string an int64 request field takes. */
  rev(n: number): string {
    return String(this.base + n);
  }
  set(name: string, v: unknown): void {
    this.vars.set(name, v);
  }
  get<T = Msg>(name: string): T {
    if (!this.vars.has(name)) throw new Error(`[${this.name}] no saved value "${name}"`);
    return this.vars.get(name) as T;
  }
  /** Registers a server-assigned id (e.g. a lease ID) under a name; normalised output shows `<lease name>`. */
  alias(name: string, id: string): string {
    this.idToAlias.set(String(id), name);
    this.aliasToId.set(name, String(id));
    return String(id);
  }
  /** The raw id registered under a name. */
  id(name: string): string {
    const v = this.aliasToId.get(name);
    if (v === undefined) throw new Error(`[${this.name}] no id aliased "${name}"`);
    return v;
  }
  /** The named watch stream on this side, opened on first use. */
  watch(name = 'w', metadata?: grpc.Metadata): Watcher {
    let w = this.watches.get(name);
    if (!w) {
      w = new Watcher(this.c, metadata);
      this.watches.set(name, w);
    }
    return w;
  }
  close(): void {
    for (const w of this.watches.values()) w.close();
    this.c.close();
  }
}

// ------------------------------------------------------------------------------------------------
// Normalisation

const IDENTITY_FIELDS = new Set(['cluster_id', 'member_id', 'raft_term']);
const REVISION_FIELDS = new Set(['revision', 'create_revision', 'mod_revision', 'compact_revision']);
const ID_FIELDS = new Set(['ID', 'lease']);

/** Bytes as a readable string: the text itself when it is printable UTF-8, else `<hex …>`. */
export function showBytes(buf: Buffer | Uint8Array): string {
  const bb = Buffer.from(buf);
  const str = bb.toString('utf8');
  // eslint-disable-next-line no-control-regex
  if (Buffer.from(str, 'utf8').equals(bb) && !/[\u0000-\u001f\u007f\ufffd]/.test(str)) return str;
  return `<hex ${bb.toString('hex')}>`;
}

export interface NormOptions {
  /** Rewrite revisions as base+N (shared mode); absolute when undefined. */
  base?: number;
  aliases?: Map<string, string>;
  /** The answering server's identity: header fields equal to it are shown as `<cluster_id>` etc. */
  identity?: Identity;
}

/** A header's identity field: a placeholder when it is the server's own, else the value itself (a difference). */
export function showIdentity(field: string, v: unknown, identity: Identity): unknown {
  return v === identity[field as keyof Identity] ? `<${field}>` : v;
}

function showRevision(v: unknown, base: number | undefined): unknown {
  if (base === undefined || typeof v !== 'string' || !/^-?\d+$/.test(v) || v === '0') return v;
  const n = Number(v);
  return n >= base ? `base+${n - base}` : `abs:${v}`;
}

/**
 * In every `header` (at any depth: txn inner responses, watch responses) shows cluster_id,
 * member_id and raft_term as placeholders where they are the answering server's own (o.identity;
 * without one they are dropped), converts bytes to strings, rewrites revisions relative to the case
 * base (shared mode) and shows aliased ids by name.
 */
export function normalise(v: unknown, o: NormOptions = {}): unknown {
  if (v === null || v === undefined) return v;
  if (Buffer.isBuffer(v) || v instanceof Uint8Array) return showBytes(v);
  if (Array.isArray(v)) return v.map((x) => normalise(x, o));
  if (typeof v === 'bigint') return v.toString();
  if (typeof v !== 'object') return v;
  const out: Record<string, unknown> = {};
  for (const [key, val] of Object.entries(v as Record<string, unknown>)) {
    if (key === 'header' && val && typeof val === 'object') {
      const h: Record<string, unknown> = {};
      for (const [hk, hv] of Object.entries(val as Record<string, unknown>)) {
        if (IDENTITY_FIELDS.has(hk)) {
          if (o.identity) h[hk] = showIdentity(hk, hv, o.identity);
          continue;
        }
        h[hk] = hk === 'revision' ? showRevision(hv, o.base) : normalise(hv, o);
      }
      out[key] = h;
    } else if (REVISION_FIELDS.has(key)) {
      out[key] = showRevision(val, o.base);
    } else if (ID_FIELDS.has(key) && typeof val === 'string' && o.aliases?.has(val)) {
      out[key] = `<lease ${o.aliases.get(val)}>`;
    } else {
      out[key] = normalise(val, o);
    }
  }
  return out;
}

// Path patterns for ignore/tolerance: dot-separated; `*` is any one key or index, `**` any depth.
type PathKey = string | number;

function children(node: unknown): Array<[PathKey, unknown]> {
  if (Array.isArray(node)) return node.map((x, i) => [i, x]);
  if (node && typeof node === 'object') return Object.entries(node as Record<string, unknown>);
  return [];
}

function matchPaths(node: unknown, segs: string[], at: PathKey[] = [], out: PathKey[][] = []): PathKey[][] {
  if (segs.length === 0) {
    if (node !== undefined) out.push(at);
    return out;
  }
  const [seg, ...rest] = segs;
  if (seg === '**') {
    matchPaths(node, rest, at, out);
    for (const [k, c] of children(node)) matchPaths(c, segs, [...at, k], out);
  } else if (seg === '*') {
    for (const [k, c] of children(node)) matchPaths(c, rest, [...at, k], out);
  } else if (node && typeof node === 'object' && seg in (node as object)) {
    matchPaths((node as Record<string, unknown>)[seg], rest, [...at, seg], out);
  }
  return out;
}

function getAt(node: unknown, p: PathKey[]): unknown {
  let cur = node;
  for (const k of p) {
    if (!cur || typeof cur !== 'object') return undefined;
    cur = (cur as Record<PathKey, unknown>)[k];
  }
  return cur;
}

function setAt(node: unknown, p: PathKey[], v: unknown): void {
  if (p.length === 0) return;
  const parent = getAt(node, p.slice(0, -1));
  if (parent && typeof parent === 'object') (parent as Record<PathKey, unknown>)[p[p.length - 1]] = v;
}

const IGNORED = '<ignored>';

/** Replaces every value matching a pattern with "<ignored>", on whichever side has it. */
export function applyIgnore(v: unknown, patterns: string[]): void {
  for (const pat of patterns) for (const p of matchPaths(v, pat.split('.'))) setAt(v, p, IGNORED);
}

/** Where both sides have a number within tolerance at the same path, copy etcd's value to the peer. */
export function applyTolerance(etcd: unknown, peer: unknown, tol: Record<string, number>): void {
  for (const [pat, t] of Object.entries(tol)) {
    for (const p of matchPaths(etcd, pat.split('.'))) {
      const a = Number(getAt(etcd, p));
      const bv = getAt(peer, p);
      if (bv === undefined || Number.isNaN(a) || Number.isNaN(Number(bv))) continue;
      if (Math.abs(a - Number(bv)) <= t) setAt(peer, p, getAt(etcd, p));
    }
  }
}

/** A gRPC error as compared: the status code and its message. */
export interface ErrorResult {
  error: { code: number; name: string; details: string };
}

function isGrpcError(e: unknown): e is grpc.ServiceError {
  return !!e && typeof e === 'object' && typeof (e as grpc.ServiceError).code === 'number' && 'details' in e;
}

export function errorResult(e: grpc.ServiceError): ErrorResult {
  return { error: { code: e.code, name: grpc.status[e.code] ?? String(e.code), details: e.details } };
}

/** Expected-error shorthand for `etcd:` expectations. */
export function grpcError(name: keyof typeof grpc.status, details: string): ErrorResult {
  return { error: { code: grpc.status[name], name, details } };
}

// ------------------------------------------------------------------------------------------------
// Cases and steps

export interface Step {
  name: string;
  run: (s: Side) => Promise<unknown>;
  /** Field path patterns whose values legitimately differ (replaced by "<ignored>" on both sides). */
  ignore?: string[];
  /** Field path pattern → allowed absolute difference (e.g. { TTL: 1 }). */
  tolerance?: Record<string, number>;
  /** Applied to both normalised results before comparing (e.g. sort a list etcd leaves unordered). */
  post?: (v: unknown) => unknown;
  /** Assertions on each side's normalised result (shape checks where values are not compared). */
  check?: (v: any, s: Side) => void; // eslint-disable-line @typescript-eslint/no-explicit-any
  /** Partial expectation on the etcd side (toMatchObject): the observed reference behaviour. */
  etcd?: unknown;
  /**
   * For requests the reference etcd cannot answer (e.g. it panics): the step is NOT sent to etcd;
   * strata's normalised result must equal `expect`. Skipped under STRATA_TEST_AGAINST=etcd. `why` says why.
   */
  peerOnly?: { expect: unknown; why: string };
}

export interface Case {
  name: string;
  /** Own pair of servers, absolute revisions (see the header comment). */
  fresh?: boolean;
  /** Flags for a fresh case's servers, the same on both sides (etcd's flags, which strata shares). */
  serverArgs?: string[];
  steps: Step[];
  timeoutMs?: number;
}

/** Shorthand for a step. */
export function step(name: string, run: (s: Side) => Promise<unknown>, opts: Omit<Step, 'name' | 'run'> = {}): Step {
  return { name, run, ...opts };
}

async function runOne(st: Step, side: Side): Promise<unknown> {
  try {
    return await st.run(side);
  } catch (e) {
    if (isGrpcError(e)) return errorResult(e);
    const err = e instanceof Error ? e : new Error(String(e));
    err.message = `[${side.name}] step "${st.name}" threw: ${err.message}`;
    throw err;
  }
}

function slug(s: string): string {
  return s
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-|-$/g, '')
    .slice(0, 24);
}

async function readRevision(c: EtcdClient): Promise<number> {
  const r = await c.kv.Range({ key: b('\u0000strata-diff-base'), count_only: true });
  return Number(r.header.revision);
}

async function runCase(file: string, idx: number, cs: Case, pair: Pair): Promise<void> {
  const prefix = `/${file}/${String(idx).padStart(2, '0')}-${slug(cs.name)}/`;
  const side = (name: string, m: Member) => new Side(name, createClient(m.server.address), prefix, m.server.url, m.identity);
  const etcd = side('etcd', pair.etcd);
  const peer = side(PEER === 'etcd' ? 'etcd#2' : 'strata', pair.peer);
  const sides = [etcd, peer];
  try {
    for (const s of sides) s.base = await readRevision(s.c);
    const norm = (v: unknown, s: Side): unknown =>
      normalise(v, { base: cs.fresh ? undefined : s.base, aliases: s.idToAlias, identity: s.identity });
    for (let i = 0; i < cs.steps.length; i++) {
      const st = cs.steps[i];
      const label = `${cs.name} › step ${i + 1} "${st.name}" (${peer.name} vs etcd)`;
      if (st.peerOnly) {
        // Nothing to validate against: the reference can't take it.
        if (PEER === 'etcd') {
          skipped(label, `strata only: ${st.peerOnly.why}`);
          continue;
        }
        const np = norm(await runOne(st, peer), peer);
        expect(np, `${label} [peer-only: ${st.peerOnly.why}]`).toEqual(st.peerOnly.expect);
        continue;
      }
      const [re, rp] = await Promise.all([runOne(st, etcd), runOne(st, peer)]);
      let ne = norm(re, etcd);
      let np = norm(rp, peer);
      if (st.ignore) {
        applyIgnore(ne, st.ignore);
        applyIgnore(np, st.ignore);
      }
      if (st.tolerance) applyTolerance(ne, np, st.tolerance);
      if (st.post) {
        ne = st.post(ne);
        np = st.post(np);
      }
      if (VERBOSE) note(`${label}\n  etcd: ${JSON.stringify(ne)}`);
      if (st.check) {
        st.check(ne, etcd);
        st.check(np, peer);
      }
      if (st.etcd !== undefined) expect(ne, `${label}: etcd reference expectation`).toMatchObject(st.etcd as object);
      expect(np, label).toEqual(ne);
    }
    if (sides.some((s) => s.watches.size > 0)) {
      await sleep(150);
      const rest = (s: Side) => Object.fromEntries([...s.watches].map(([n, w]) => [n, norm(w.rest(), s)]));
      expect(rest(peer), `${cs.name} › unconsumed watch responses (${peer.name} vs etcd)`).toEqual(rest(etcd));
    }
  } finally {
    for (const s of sides) s.close();
  }
}

/**
 * Registers a describe block for a file of cases. Skips (with a printed reason) when etcd is
 * missing outside CI; fails in CI (haveTool throws).
 */
export function diffSuite(file: string, cases: Case[]): void {
  const enabled = haveTool(ETCD_BIN, 'etcd');
  describe.skipIf(!enabled)(`differential ${file} (${PEER} vs etcd)`, () => {
    let shared: Pair | undefined;
    const needShared = cases.some((c) => !c.fresh);
    beforeAll(async () => {
      if (needShared) shared = await startPair();
    });
    afterAll(async () => {
      await stopPair(shared);
    });
    cases.forEach((cs, idx) => {
      test(
        cs.name,
        async () => {
          if (!cs.fresh) {
            if (!shared) throw new Error('shared servers did not start');
            await runCase(file, idx, cs, shared);
            return;
          }
          const pair = await startPair(cs.serverArgs);
          try {
            await runCase(file, idx, cs, pair);
          } finally {
            await stopPair(pair);
          }
        },
        cs.timeoutMs ?? 30_000,
      );
    });
  });
}

// ------------------------------------------------------------------------------------------------
// Small request helpers shared by the case files

/** One round on a LeaseKeepAlive stream: send {ID}, return the first reply. */
export function keepAliveOnce(c: EtcdClient, id: string): Promise<Msg> {
  const st = c.keepAlive();
  return new Promise<Msg>((resolve, reject) => {
    let done = false;
    st.on('data', (m: Msg) => {
      if (done) return;
      done = true;
      resolve(m);
      st.cancel();
    });
    st.on('error', (e: Error) => {
      if (done) return;
      done = true;
      reject(e);
    });
    st.write({ ID: id });
  });
}

/** Sorts an array in a normalised result by a key function (for lists etcd leaves unordered). */
export function sortBy<T>(arr: T[], key: (x: T) => string): T[] {
  return [...arr].sort((x, y) => (key(x) < key(y) ? -1 : key(x) > key(y) ? 1 : 0));
}

/**
 * Orders watch responses by (header.revision, watch_id). etcd guarantees order within one watch
 * but not between watchers of one stream notified for the same revision (it walks a Go map).
 */
export function watchOrder(v: unknown): unknown {
  if (!Array.isArray(v)) return v;
  const rev = (r: Msg) => String(r.header?.revision ?? '');
  const out: Msg[] = [];
  let group: Msg[] = [];
  const flush = () => {
    out.push(...group.sort((x, y) => Number(x.watch_id) - Number(y.watch_id)));
    group = [];
  };
  for (const r of v as Msg[]) {
    if (group.length > 0 && rev(group[0]) !== rev(r)) flush();
    group.push(r);
  }
  flush();
  return out;
}

/** Put of key prefix+key. */
export function put(s: Side, key: string | Buffer, value: string | Buffer, extra: Msg = {}): Promise<Msg> {
  return s.c.kv.Put({ key: s.k(key), value: Buffer.from(value), ...extra });
}
/** Range of the single key prefix+key. */
export function get(s: Side, key: string | Buffer, extra: Msg = {}): Promise<Msg> {
  return s.c.kv.Range({ key: s.k(key), ...extra });
}
/** Range over the whole case prefix. */
export function getAll(s: Side, extra: Msg = {}): Promise<Msg> {
  return s.c.kv.Range({ key: s.k(), range_end: s.end(), ...extra });
}
/** DeleteRange of prefix+key (a point delete unless extra.range_end is given). */
export function del(s: Side, key: string | Buffer, extra: Msg = {}): Promise<Msg> {
  return s.c.kv.DeleteRange({ key: s.k(key), ...extra });
}
/** Runs writes in order and returns every response (a setup step whose results are compared too). */
export async function seq(...fns: Array<() => Promise<Msg>>): Promise<Msg[]> {
  const out: Msg[] = [];
  for (const f of fns) out.push(await f());
  return out;
}
