import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { createClient } from './client';
import { skipped } from './notice';
import { freePort, freePorts, waitFor } from './ports';

export const ROOT = path.resolve(__dirname, '../..');
export const STRATA_BIN = path.join(ROOT, 'dist/main.js');
export const ETCD_BIN = process.env.ETCD_BIN ?? '/usr/bin/etcd';
export const ETCDCTL_BIN = process.env.ETCDCTL_BIN ?? '/usr/bin/etcdctl';

/** A running etcd-compatible server under test: strata or the real etcd. */
export interface Server {
  kind: 'strata' | 'etcd';
  /** host:port, or unix:/path, for gRPC clients. */
  address: string;
  /** The client URL the server was told to listen on: http://host:port or unix:///path. */
  url: string;
  /** The unix socket it listens on, if it does. */
  socketPath?: string;
  dataDir: string;
  proc: ChildProcess;
  /** Resolves with the exit code once the process has exited. */
  exited: Promise<number | null>;
  logs(): string;
  /** Sends SIGTERM and waits for the exit; returns the exit code. */
  stop(): Promise<number | null>;
  /** SIGKILL, no cleanup of the data dir. */
  kill(): Promise<void>;
  /** Removes the temp dir (after stop/kill). */
  cleanup(): void;
}

/**
 * Whether an external tool is present. In CI (CI=true) a missing tool is an error, never a silent
 * skip; elsewhere the caller skips and we print why.
 */
export function haveTool(bin: string, what: string, install = 'apt-get install -y etcd-server etcd-client'): boolean {
  if (existsSync(bin)) return true;
  const msg = `${what} not found at ${bin}; install it (${install})`;
  if (process.env.CI === 'true') throw new Error(`CI requires ${msg}`);
  skipped(what, msg);
  return false;
}

function track(proc: ChildProcess): { exited: Promise<number | null>; logs: () => string } {
  let out = '';
  proc.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  proc.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((resolve) => proc.on('exit', (code) => resolve(code)));
  return { exited, logs: () => out };
}

async function waitReady(address: string, exited: Promise<number | null>, logs: () => string): Promise<void> {
  const c = createClient(address);
  // A server that exits during start fails the wait at once, not after its timeout.
  const died = exited.then((code) => Promise.reject(new Error(`server exited during start (code ${String(code)}):\n${logs()}`)));
  try {
    await Promise.race([
      waitFor(
        async () => {
          await c.maintenance.Status({});
          return true;
        },
        20_000,
        `server at ${address}`,
      ).catch((e: Error) => {
        throw new Error(`${e.message}\n${logs()}`);
      }),
      died,
    ]);
  } finally {
    died.catch(() => undefined);
    c.close();
  }
}

function makeServer(
  kind: Server['kind'],
  proc: ChildProcess,
  address: string,
  dataDir: string,
  ownDir: boolean,
  onCleanup?: (dataDir: string) => void,
  socketPath?: string,
): Server {
  const { exited, logs } = track(proc);
  return {
    kind,
    address,
    url: socketPath ? `unix://${socketPath}` : `http://${address}`,
    socketPath,
    dataDir,
    proc,
    exited,
    logs,
    async stop() {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGTERM');
      return exited;
    },
    async kill() {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
      await exited;
    },
    cleanup() {
      if (!ownDir) return;
      onCleanup?.(dataDir);
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export interface StrataOptions {
  /** Storage endpoint, or a function of the server's data dir; defaults to a SQLite file there. */
  endpoint?: string | ((dataDir: string) => string);
  /** Reuse this data dir (e.g. to restart on the same database). */
  dataDir?: string;
  args?: string[];
  env?: Record<string, string>;
  /** Runs at cleanup with the data dir, e.g. to drop the server's database. */
  onCleanup?: (dataDir: string) => void;
  /** Listen on a unix socket in the data dir instead of a TCP port. */
  unixSocket?: boolean;
  /** The node binary to run strata with (default: the one running the tests). */
  node?: string;
}

/** Spawns the built strata CLI on a free port and waits until it answers. */
export async function startStrata(opts: StrataOptions = {}): Promise<Server> {
  const ownDir = !opts.dataDir;
  const dataDir = opts.dataDir ?? mkdtempSync(path.join(tmpdir(), 'strata-test-'));
  const endpoint =
    typeof opts.endpoint === 'function' ? opts.endpoint(dataDir) : (opts.endpoint ?? `sqlite://${path.join(dataDir, 'state.db')}`);
  const socketPath = opts.unixSocket ? path.join(dataDir, 'strata.sock') : undefined;
  const address = socketPath ? `unix:${socketPath}` : `127.0.0.1:${await freePort()}`;
  const listen = socketPath ? `unix://${socketPath}` : address;
  const proc = spawn(
    opts.node ?? process.execPath,
    [STRATA_BIN, '--listen-address', listen, '--endpoint', endpoint, '--log-level', 'warn', ...(opts.args ?? [])],
    { env: { ...process.env, ...opts.env }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const server = makeServer('strata', proc, address, dataDir, ownDir, opts.onCleanup, socketPath);
  await waitReady(address, server.exited, server.logs);
  return server;
}

export interface EtcdOptions {
  /** Reuse this data dir (a restart); the caller then owns it. Default: a fresh temp dir. */
  dataDir?: string;
  /** Client and peer ports; a restarted member must get its own back. Default: free ports. */
  ports?: [number, number];
  /** More flags (e.g. --auth-token-ttl). */
  args?: string[];
}

/** Spawns Debian's etcd (3.4) on loopback ports, by default with a fresh data dir. */
export async function startEtcd(opts: EtcdOptions = {}): Promise<Server> {
  for (let attempt = 1; ; attempt++) {
    const ownDir = !opts.dataDir;
    const dataDir = opts.dataDir ?? mkdtempSync(path.join(tmpdir(), 'etcd-test-'));
    const ports = opts.ports ?? ((await freePorts(2)) as [number, number]);
    try {
      return await launchEtcd(dataDir, ownDir, ports, opts.args ?? []);
    } catch (e) {
      if (ownDir) rmSync(dataDir, { recursive: true, force: true });
      // A port free a moment ago was taken by another test's server before etcd bound it.
      if (opts.ports || attempt >= 3 || !/address already in use/.test((e as Error).message)) throw e;
    }
  }
}

async function launchEtcd(dataDir: string, ownDir: boolean, [cport, pport]: [number, number], args: string[]): Promise<Server> {
  const address = `127.0.0.1:${cport}`;
  const peer = `http://127.0.0.1:${pport}`;
  const proc = spawn(
    ETCD_BIN,
    [
      '--name',
      'default',
      '--data-dir',
      dataDir,
      '--listen-client-urls',
      `http://${address}`,
      '--advertise-client-urls',
      `http://${address}`,
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
      ...args,
    ],
    { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ETCD_UNSUPPORTED_ARCH: process.arch } },
  );
  const server = makeServer('etcd', proc, address, dataDir, ownDir);
  await waitReady(address, server.exited, server.logs);
  return server;
}

/** Runs etcdctl against an endpoint; returns stdout, stderr and the exit code. */
export function etcdctl(address: string, args: string[], input?: string): { stdout: string; stderr: string; code: number | null } {
  const r = spawnSync(ETCDCTL_BIN, ['--endpoints', address, ...args], {
    env: { ...process.env, ETCDCTL_API: '3' },
    input,
    encoding: 'utf8',
    timeout: 30_000,
  });
  return { stdout: r.stdout, stderr: r.stderr, code: r.status };
}
