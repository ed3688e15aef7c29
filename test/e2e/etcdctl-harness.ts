// Helpers for the etcdctl differential e2e suite: one "side" per server (real etcd = reference,
// strata = peer), etcdctl runs, and the normalisation of what may legitimately differ.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { afterAll, beforeAll } from 'vitest';
import { AGAINST } from '../helpers/against';
import { b, createClient, type EtcdClient } from '../helpers/client';
import { sleep } from '../helpers/ports';
import { ETCDCTL_BIN, STRATA_BIN, etcdctl, startEtcd, startStrata, type Server } from '../helpers/servers';

export interface CtlResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * The server under comparison with the reference etcd. STRATA_TEST_AGAINST=etcd runs it against a
 * second real etcd, which is how the suite itself (sequence + normalisation) is validated without strata.
 */
export async function startPeer(): Promise<Server> {
  if (AGAINST === 'etcd') return startEtcd();
  if (!existsSync(STRATA_BIN)) throw new Error(`${STRATA_BIN} is missing: run \`npm run build\` first`);
  return startStrata();
}

/** The reference etcd and the peer, started before a suite's tests and stopped after them. */
export function sidesPerSuite(): { ref: Side; peer: Side } {
  const sides = {} as { ref: Side; peer: Side };
  const servers: Server[] = [];
  beforeAll(async () => {
    const [r, p] = await Promise.allSettled([startEtcd(), startPeer()]);
    for (const x of [r, p]) if (x.status === 'fulfilled') servers.push(x.value);
    if (r.status === 'rejected') throw r.reason;
    if (p.status === 'rejected') throw p.reason;
    sides.ref = new Side('reference', r.value);
    sides.peer = new Side('peer', p.value);
  });
  afterAll(async () => {
    sides.ref?.close();
    sides.peer?.close();
    for (const srv of servers) {
      await srv.stop();
      srv.cleanup();
    }
  });
  return sides;
}

export class Side {
  /** Lease ids (16 hex digits, as etcdctl prints them) in order of first appearance. */
  readonly leases: string[] = [];
  /** Named revisions captured during the sequence (e.g. where the watch section starts). */
  readonly marks = new Map<string, number>();
  /** header.member_id as printed by `endpoint status`, checked against `member list`. */
  memberId: string | undefined;
  readonly client: EtcdClient;

  constructor(
    readonly role: 'reference' | 'peer',
    readonly server: Server,
  ) {
    this.client = createClient(server.address);
  }

  get label(): string {
    return `${this.role} (${this.server.kind} at ${this.server.address})`;
  }

  ctl(args: string[], input?: string): CtlResult {
    const r = etcdctl(this.server.address, args, input);
    this.learnLeases(r.stdout);
    return r;
  }

  /** Current store revision (header.revision of a point read). */
  async rev(): Promise<number> {
    const r = await this.client.kv.Range({ key: b('\u0001no-such-key') });
    return Number(r.header.revision);
  }

  mark(name: string): number {
    const v = this.marks.get(name);
    if (v === undefined) throw new Error(`${this.label}: mark ${name} was never set (an earlier step failed?)`);
    return v;
  }

  lease(i: number): string {
    const id = this.leases[i];
    if (id === undefined) throw new Error(`${this.label}: lease #${i + 1} was never granted (an earlier step failed?)`);
    return id;
  }

  /** Records lease ids from `lease grant` output (simple and -w json). */
  learnLeases(stdout: string): void {
    for (const m of stdout.matchAll(/^lease ([0-9a-f]{16}) granted with TTL\(\d+s\)$/gm)) this.addLease(m[1]);
    if (/^\{"cluster_id":\d+,"member_id":\d+,"revision":\d+,"raft_term":\d+,"ID":\d+,"TTL":/.test(stdout)) {
      const m = /"ID":(\d+)/.exec(stdout);
      if (m) this.addLease(BigInt(m[1]).toString(16).padStart(16, '0'));
    }
  }

  private addLease(hex: string): void {
    if (!this.leases.includes(hex)) this.leases.push(hex);
  }

  leaseIndexOfDecimal(dec: string): number {
    let hex: string;
    try {
      hex = BigInt(dec).toString(16).padStart(16, '0');
    } catch {
      return -1;
    }
    return this.leases.indexOf(hex);
  }

  close(): void {
    this.client.close();
  }
}

/** The normalisation every output goes through. Step-specific checks run after this. */
export function normalise(r: CtlResult, side: Side): CtlResult {
  return { code: r.code, stdout: normaliseText(r.stdout, side), stderr: normaliseText(r.stderr, side) };
}

export function normaliseText(text: string, side: Side): string {
  let out = text
    .split('\n')
    .map((line) => normaliseLine(line))
    .join('\n');
  // Lease ids: hex (simple output) and decimal (json / fields output) → <lease N>.
  out = out.replace(/\b[0-9a-f]{16}\b/g, (m) => {
    const i = side.leases.indexOf(m);
    return i >= 0 ? `<lease${i + 1}>` : m;
  });
  out = out.replace(/"(ID|id|lease)":(\d+)/g, (m, k: string, d: string) => {
    const i = side.leaseIndexOfDecimal(d);
    return i >= 0 ? `"${k}":"<lease${i + 1}>"` : m;
  });
  out = out.replace(/"Lease" : (\d+)/g, (m, d: string) => {
    const i = side.leaseIndexOfDecimal(d);
    return i >= 0 ? `"Lease" : <lease${i + 1}>` : m;
  });
  // Cluster identity and raft figures in response headers (json and fields output).
  out = out.replace(/"(cluster_id|member_id|raft_term)":\d+/g, '"$1":"<$1>"');
  out = out.replace(/"(ClusterID|MemberID|RaftTerm)" : \d+/g, '"$1" : <$1>');
  // Timings.
  out = out.replace(/took = [^\s,"]+/g, 'took = <took>');
  out = out.replace(/"took":"[^"]*"/g, '"took":"<took>"');
  // The endpoint address itself.
  out = out.split(side.server.address).join('<endpoint>');
  return out;
}

/**
 * - etcdctl's zap warnings ("retrying of unary invoker failed") carry a timestamp and a random client
 *   id: keep only the level, message and the gRPC error (code + text), which must match.
 * - ASCII tables: column widths follow the content; keep the trimmed cells.
 */
function normaliseLine(line: string): string {
  if (line.startsWith('{"level":')) {
    try {
      const j = JSON.parse(line) as Record<string, unknown>;
      return `<log ${String(j.level)}: ${String(j.msg)}: ${String(j.error ?? '')}>`;
    } catch {
      return line;
    }
  }
  if (line.startsWith('+-')) return '+---+';
  if (line.startsWith('|')) return `| ${tableCells(line).join(' | ')} |`;
  return line;
}

export function tableCells(line: string): string[] {
  return line
    .split('|')
    .slice(1, -1)
    .map((c) => c.trim());
}

/** `lease list` order is etcd's expiry order; compare the set of ids. */
export function sortLinesAfterFirst(text: string): string {
  const lines = text.split('\n');
  const tail = lines.slice(1).filter((l) => l !== '');
  return [lines[0], ...tail.sort(), ''].join('\n');
}

/** `attached keys([a b])` comes from a Go map in etcd: compare the set of keys. */
export function sortAttachedKeys(text: string): string {
  return text.replace(/attached keys\(\[([^\]]*)\]\)/g, (_m, ks: string) => `attached keys([${ks.split(' ').sort().join(' ')}])`);
}

/** `remaining(Ns)` depends on timing: check 0 < N ≤ granted TTL, then drop it. */
export function normaliseRemaining(text: string, label: string): string {
  return text.replace(/granted with TTL\((\d+)s\), remaining\((-?\d+)s\)/g, (_m, g: string, r: string) => {
    const granted = Number(g);
    const remaining = Number(r);
    if (!(remaining > 0 && remaining <= granted)) {
      throw new Error(`${label}: remaining(${remaining}s) is not within (0, ${granted}]`);
    }
    return `granted with TTL(${g}s), remaining(<remaining>)`;
  });
}

export function versionAtLeast(v: string, min: [number, number, number]): boolean {
  const m = /^(\d+)\.(\d+)\.(\d+)/.exec(v);
  if (!m) return false;
  const got = [Number(m[1]), Number(m[2]), Number(m[3])];
  for (let i = 0; i < 3; i++) if (got[i] !== min[i]) return got[i] > min[i];
  return true;
}

export function checkVersion(version: string, side: Side): void {
  const ok = side.server.kind === 'strata' ? versionAtLeast(version, [3, 5, 0]) : /^3\.\d+\.\d+$/.test(version);
  if (!ok) throw new Error(`${side.label}: endpoint status version ${JSON.stringify(version)} (strata must report >= 3.5.0)`);
}

/**
 * One `endpoint status` row (simple: comma separated, table: cells): endpoint, member id, version,
 * db size, is leader, is learner, raft term, raft index, raft applied index, errors. Shape-checks the
 * parts that differ by server and replaces them with placeholders.
 */
export function normaliseStatusRow(cells: string[], side: Side): string[] {
  if (cells.length !== 10) throw new Error(`${side.label}: endpoint status row has ${cells.length} cells: ${JSON.stringify(cells)}`);
  const [ep, id, version, dbSize, leader, learner, term, index, applied, errors] = cells;
  const bad = (what: string) => new Error(`${side.label}: endpoint status ${what}: ${JSON.stringify(cells)}`);
  // etcdctl prints member ids with %x (no zero padding), lease ids with %016x
  if (!/^[0-9a-f]{1,16}$/.test(id) || /^0+$/.test(id)) throw bad('member id is not a non-zero %x');
  checkVersion(version, side);
  if (!/^\d+(\.\d+)? (B|kB|MB|GB)$/.test(dbSize)) throw bad('db size is not humanized bytes');
  for (const n of [term, index, applied]) if (!/^\d+$/.test(n)) throw bad('raft figure not a number');
  side.memberId = id;
  return [ep, '<member id>', '<version>', '<db size>', leader, learner, '<raft term>', '<raft index>', '<raft applied>', errors];
}

/** One `member list` row: id, status, name, peer urls, client urls, is learner. Peer URLs are not compared (strata has no peers). */
export function normaliseMemberRow(cells: string[], side: Side): string[] {
  if (cells.length !== 6) throw new Error(`${side.label}: member list row has ${cells.length} cells: ${JSON.stringify(cells)}`);
  const [id, status, name, , clientUrls, learner] = cells;
  if (!/^[0-9a-f]{1,16}$/.test(id) || /^0+$/.test(id)) throw new Error(`${side.label}: member id ${id} is not a non-zero %x`);
  if (side.memberId !== undefined && id !== side.memberId) {
    throw new Error(`${side.label}: member list id ${id} != endpoint status member id ${side.memberId}`);
  }
  // (the generic normalisation already turned the address into <endpoint>)
  if (
    !clientUrls
      .split(',')
      .map((u) => u.trim())
      .includes('http://<endpoint>')
  ) {
    throw new Error(`${side.label}: member client URLs ${JSON.stringify(clientUrls)} lack http://${side.server.address}`);
  }
  // The name is configuration (etcd --name, default "default"; strata --name): non-empty is what
  // etcdctl needs to print "started".
  if (name === '') throw new Error(`${side.label}: member name is empty`);
  return ['<member id>', status, '<name>', '<peer urls>', '<client urls>', learner];
}

export interface WatchOptions {
  /** Stop once stdout contains this text. */
  until: string;
  /** Writes to perform once the watcher is running (for live, not replayed, events). */
  during?: (side: Side) => void | Promise<void>;
  timeoutMs?: number;
}

/**
 * Runs `etcdctl watch …` as a child process, waits until its stdout contains `until` (or it exits,
 * or the timeout passes), kills it and returns what it printed. Exit code of a killed watcher is
 * reported as null.
 */
export async function watchCapture(side: Side, args: string[], opts: WatchOptions): Promise<CtlResult> {
  const proc = spawn(ETCDCTL_BIN, ['--endpoints', side.server.address, 'watch', ...args], {
    env: { ...process.env, ETCDCTL_API: '3' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  let code: number | null | undefined;
  proc.stdout.on('data', (d: Buffer) => (stdout += d.toString('utf8')));
  proc.stderr.on('data', (d: Buffer) => (stderr += d.toString('utf8')));
  const exited = new Promise<void>((resolve) =>
    proc.on('close', (c) => {
      code = c;
      resolve();
    }),
  );
  try {
    if (opts.during) {
      await sleep(300); // let the watch get established; correctness does not depend on it (--rev)
      await opts.during(side);
    }
    const deadline = Date.now() + (opts.timeoutMs ?? 5_000);
    while (!stdout.includes(opts.until) && code === undefined && Date.now() < deadline) await sleep(25);
    await sleep(100); // anything printed after the last expected event would be a difference too
  } finally {
    if (code === undefined) proc.kill('SIGKILL');
    await exited;
  }
  return { code: code ?? null, stdout, stderr };
}
