/**
 * The servers under test: strata on SQLite, PostgreSQL and MySQL/MariaDB, and Debian's etcd.
 * Each start gets a fresh data dir (or a freshly dropped database) unless it is a restart.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { clientTlsArgs, serverTlsFlags, type BenchTls } from './tls';
import { runLoadgen } from './loadgen';
import { findPids, freePort, run, spawnChild, type Child } from './proc';

export type TargetName = 'sqlite' | 'postgres' | 'mysql' | 'etcd';
export const ALL_TARGETS: TargetName[] = ['sqlite', 'postgres', 'mysql', 'etcd'];

export const ROOT = path.resolve(__dirname, path.basename(path.resolve(__dirname, '..')) === '.build' ? '../../..' : '../..');
export const STRATA_BIN = path.join(ROOT, 'dist/main.js');
export const ETCD_BIN = process.env.ETCD_BIN ?? '/usr/bin/etcd';
const PSQL = '/usr/bin/psql';
const MARIADB = existsSync('/usr/bin/mariadb') ? '/usr/bin/mariadb' : '/usr/bin/mysql';
export const DB_NAME = process.env.STRATA_BENCH_DB ?? 'strata_bench';

/** Thrown when a target cannot run here (missing tool, backend not accepted yet); the run goes on. */
export class SkipTarget extends Error {}

export interface Started {
  target: TargetName;
  child: Child;
  address: string;
  /** Seconds from spawn until a linearizable Get was answered. */
  readySeconds: number;
  /** Pids to account CPU to: the server itself, and (PostgreSQL/MySQL) the database server. */
  pids(): Record<string, number[]>;
}

/** State that survives a restart: data dir, ports. */
export interface Slot {
  target: TargetName;
  dataDir: string;
  port: number;
  peerPort: number;
  endpoint: string;
}

export function endpointOf(target: TargetName, dataDir: string): string {
  switch (target) {
    case 'sqlite':
      return `sqlite://${path.join(dataDir, 'state.db')}`;
    case 'postgres':
      return `postgres://postgres@127.0.0.1:5432/${DB_NAME}?sslmode=disable`;
    case 'mysql':
      return `mysql://root@tcp(127.0.0.1:3306)/${DB_NAME}`;
    case 'etcd':
      return '';
  }
}

/** Why a target cannot run on this machine, or null if it can (checked once per run). */
export function unavailable(target: TargetName): string | null {
  switch (target) {
    case 'etcd':
      return existsSync(ETCD_BIN) ? null : `etcd not found at ${ETCD_BIN} (apt-get install -y etcd-server)`;
    case 'sqlite':
      return existsSync(STRATA_BIN) ? null : `strata is not built (${STRATA_BIN}); run npm run build`;
    case 'postgres': {
      if (!existsSync(PSQL)) return `psql not found at ${PSQL}`;
      const r = run(PSQL, ['-h', '127.0.0.1', '-U', 'postgres', '-d', 'postgres', '-Atc', 'select 1'], { timeoutMs: 10_000 });
      return r.code === 0 ? null : `PostgreSQL at 127.0.0.1:5432 not reachable as postgres: ${r.stderr.trim().split('\n')[0]}`;
    }
    case 'mysql': {
      if (!existsSync(MARIADB)) return `mariadb client not found at ${MARIADB}`;
      const r = run(MARIADB, ['--protocol=tcp', '-h', '127.0.0.1', '-P', '3306', '-u', 'root', '-Nse', 'select 1'], { timeoutMs: 10_000 });
      return r.code === 0 ? null : `MySQL/MariaDB at 127.0.0.1:3306 not reachable as root: ${r.stderr.trim().split('\n')[0]}`;
    }
  }
}

/** Runs one statement on PostgreSQL's maintenance database as postgres; quiet, unaligned output. */
export function psql(sql: string): ReturnType<typeof run> {
  return run(PSQL, ['-h', '127.0.0.1', '-U', 'postgres', '-d', 'postgres', '-qAtc', sql]);
}

/** Drops the benchmark database (PostgreSQL/MySQL); strata creates it again on start. */
export function dropDatabase(target: TargetName): void {
  if (target === 'postgres') {
    const r = psql(`DROP DATABASE IF EXISTS ${DB_NAME} WITH (FORCE)`);
    if (r.code !== 0) throw new Error(`dropping ${DB_NAME} on PostgreSQL: ${r.stderr}`);
  } else if (target === 'mysql') {
    const r = run(MARIADB, ['--protocol=tcp', '-h', '127.0.0.1', '-P', '3306', '-u', 'root', '-e', `DROP DATABASE IF EXISTS ${DB_NAME}`]);
    if (r.code !== 0) throw new Error(`dropping ${DB_NAME} on MySQL: ${r.stderr}`);
  }
}

/** A fresh slot: new temp dir, free ports, and an empty database for PostgreSQL/MySQL. */
export async function freshSlot(target: TargetName): Promise<Slot> {
  const dataDir = mkdtempSync(path.join(tmpdir(), `strata-bench-${target}-`));
  dropDatabase(target);
  return { target, dataDir, port: await freePort(), peerPort: await freePort(), endpoint: endpointOf(target, dataDir) };
}

export function releaseSlot(slot: Slot): void {
  rmSync(slot.dataDir, { recursive: true, force: true });
  try {
    dropDatabase(slot.target);
  } catch {
    // best effort at the end
  }
}

export interface StartOptions {
  loadgen: string;
  /** Serve the client URL over mTLS (the --tls variant). */
  tls?: BenchTls;
  /** Extra node flags for strata (e.g. --cpu-prof). */
  nodeArgs?: string[];
  timeoutMs?: number;
}

/** Starts the target on its slot and waits until it answers a linearizable Get. */
export async function start(slot: Slot, opts: StartOptions): Promise<Started> {
  const address = `127.0.0.1:${slot.port}`;
  const scheme = opts.tls ? 'https' : 'http';
  const tlsFlags = opts.tls ? serverTlsFlags(opts.tls) : [];
  const t0 = Date.now();
  let child: Child;
  if (slot.target === 'etcd') {
    const peer = `http://127.0.0.1:${slot.peerPort}`;
    child = spawnChild(
      ETCD_BIN,
      [
        '--name',
        'default',
        '--data-dir',
        path.join(slot.dataDir, 'etcd'),
        '--listen-client-urls',
        `${scheme}://${address}`,
        '--advertise-client-urls',
        `${scheme}://${address}`,
        '--listen-peer-urls',
        peer,
        '--initial-advertise-peer-urls',
        peer,
        '--initial-cluster',
        `default=${peer}`,
        '--log-level',
        'error',
        '--logger',
        'zap',
        ...tlsFlags,
      ],
      { ...process.env, ETCD_UNSUPPORTED_ARCH: process.arch },
    );
  } else {
    child = spawnChild(process.execPath, [
      ...(opts.nodeArgs ?? []),
      STRATA_BIN,
      '--listen-client-urls',
      `${scheme}://${address}`,
      '--endpoint',
      slot.endpoint,
      '--log-level',
      'warn',
      ...tlsFlags,
    ]);
  }
  const timeoutMs = opts.timeoutMs ?? 60_000;
  const ready = runLoadgen(
    opts.loadgen,
    { endpoint: address, workload: 'ready', since: t0, timeout: `${timeoutMs}ms`, ...(opts.tls ? clientTlsArgs(opts.tls) : {}) },
    timeoutMs + 10_000,
  );
  // A server that exits before answering (e.g. strata refusing an endpoint it does not support yet)
  // is a skip with its own message, not a hang.
  const outcome = await Promise.race([ready.then((l) => ({ lines: l })), child.exited.then((code) => ({ code }))]);
  if ('code' in outcome) {
    ready.catch(() => undefined);
    const msg = child.output().trim().split('\n').filter(Boolean).slice(-3).join(' | ');
    throw new SkipTarget(`${slot.target === 'etcd' ? 'etcd' : 'strata'} exited with code ${outcome.code} on start: ${msg}`);
  }
  const readySeconds = Number(outcome.lines[0].ready_s);
  const pid = child.pid;
  const target = slot.target;
  return {
    target,
    child,
    address,
    readySeconds,
    pids() {
      const out: Record<string, number[]> = { server: [pid] };
      if (target === 'postgres') {
        // PostgreSQL backends name their database in the process title: count only ours.
        out.db = findPids((cmd, comm) => comm.startsWith('postgres') && cmd.includes(` ${DB_NAME} `));
      } else if (target === 'mysql') {
        out.db = findPids((_cmd, comm) => comm === 'mariadbd' || comm === 'mysqld');
      }
      return out;
    },
  };
}
