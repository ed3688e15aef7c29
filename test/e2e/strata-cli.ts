// Spawning the built strata CLI (node dist/main.js) directly, for the lifecycle tests where
// startStrata() does not fit: bad flags, env-only configuration, custom working directories.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createClient, type EtcdClient } from '../helpers/client';
import { freePort, sleep, waitFor } from '../helpers/ports';
import { STRATA_BIN, startEtcd, type Server } from '../helpers/servers';

export function requireBuild(): void {
  if (!existsSync(STRATA_BIN)) throw new Error(`${STRATA_BIN} is missing: run \`npm run build\` first`);
}

/** The parent's environment without any STRATA_* variable, plus `env`. */
export function cleanEnv(env: Record<string, string> = {}): NodeJS.ProcessEnv {
  const out: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('STRATA_')) out[k] = v;
  return { ...out, ...env };
}

export interface CliProc {
  proc: ChildProcess;
  /** Resolves once the process has exited and its pipes are drained. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  stdout(): string;
  stderr(): string;
  /** Sends a signal if still running. */
  signal(sig: NodeJS.Signals): void;
  running(): boolean;
}

export function spawnCli(args: string[], opts: { env?: Record<string, string>; cwd?: string } = {}): CliProc {
  const proc = spawn(process.execPath, [STRATA_BIN, ...args], {
    cwd: opts.cwd,
    env: cleanEnv(opts.env),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  let done = false;
  proc.stdout?.on('data', (d: Buffer) => (out += d.toString('utf8')));
  proc.stderr?.on('data', (d: Buffer) => (err += d.toString('utf8')));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    proc.on('close', (code, signal) => {
      done = true;
      resolve({ code, signal });
    }),
  );
  return {
    proc,
    exited,
    stdout: () => out,
    stderr: () => err,
    signal: (sig) => {
      if (!done && proc.exitCode === null && proc.signalCode === null) proc.kill(sig);
    },
    running: () => !done,
  };
}

export interface CliRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** The process was still running after the timeout (and was killed). */
  timedOut: boolean;
}

/** Runs the CLI to completion (killing it after timeoutMs, which the caller should treat as a failure). */
export async function runCli(
  args: string[],
  opts: { env?: Record<string, string>; cwd?: string; timeoutMs?: number } = {},
): Promise<CliRun> {
  const p = spawnCli(args, opts);
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    p.signal('SIGKILL');
  }, opts.timeoutMs ?? 10_000);
  const { code, signal } = await p.exited;
  clearTimeout(timer);
  return { code, signal, stdout: p.stdout(), stderr: p.stderr(), timedOut };
}

/** Waits until the process answers Maintenance.Status at `address`; fails fast if it exits. */
export async function waitServing(p: CliProc, address: string, timeoutMs = 20_000): Promise<void> {
  const c = createClient(address);
  try {
    await waitFor(
      async () => {
        if (!p.running()) throw new Error('exited');
        await c.maintenance.Status({});
        return true;
      },
      timeoutMs,
      `strata at ${address}`,
    ).catch((e: Error) => {
      throw new Error(`${e.message}; running=${p.running()}\nstdout:\n${p.stdout()}\nstderr:\n${p.stderr()}`);
    });
  } finally {
    c.close();
  }
}

/** SIGTERM, then wait for the exit; SIGKILL after `graceMs` (and report that). */
export async function stopCli(
  p: CliProc,
  graceMs = 10_000,
): Promise<{ code: number | null; signal: NodeJS.Signals | null; ms: number; killed: boolean }> {
  const t0 = Date.now();
  p.signal('SIGTERM');
  let killed = false;
  const timer = setTimeout(() => {
    killed = true;
    p.signal('SIGKILL');
  }, graceMs);
  const r = await p.exited;
  clearTimeout(timer);
  return { ...r, ms: Date.now() - t0, killed };
}

export interface PutRecord {
  i: number;
  key: string;
  value: string;
  /** The highest revision acknowledged before this put was sent. */
  maxAckedAtSend: number;
  rev?: number;
  error?: Error;
}

/**
 * Issues up to `n` puts with `inflight` concurrent requests; stops issuing at the first error or
 * once `deadline` passes. `onAck` sees the number of acknowledgements so far (e.g. to kill the
 * server mid-load). Returns every put that was sent, with its revision if acknowledged, in ack order.
 */
export async function putLoad(
  client: EtcdClient,
  opts: { prefix: string; n: number; inflight: number; deadline: number; onAck?: (acked: number) => void },
): Promise<{ sent: PutRecord[]; acked: PutRecord[]; firstError?: Error }> {
  const sent: PutRecord[] = [];
  const acked: PutRecord[] = [];
  let next = 0;
  let maxAcked = 0;
  let firstError: Error | undefined;
  const salt = Math.random().toString(36).slice(2, 8);
  async function worker(): Promise<void> {
    while (next < opts.n && firstError === undefined && Date.now() < opts.deadline) {
      const i = next++;
      const rec: PutRecord = {
        i,
        key: `${opts.prefix}${String(i).padStart(6, '0')}`,
        value: `value-${i}-${salt}`,
        maxAckedAtSend: maxAcked,
      };
      sent.push(rec);
      try {
        const r = await client.kv.Put({ key: Buffer.from(rec.key), value: Buffer.from(rec.value) });
        rec.rev = Number(r.header.revision);
        maxAcked = Math.max(maxAcked, rec.rev);
        acked.push(rec);
        opts.onAck?.(acked.length);
      } catch (e) {
        rec.error = e as Error;
        firstError ??= e as Error;
      }
    }
  }
  await Promise.all(Array.from({ length: opts.inflight }, () => worker()));
  return { sent, acked, firstError };
}

export { sleep };

/**
 * Real etcd on a given data dir (startEtcd() always makes a fresh one): lets the restart and crash
 * tests be validated against the reference with STRATA_TEST_AGAINST=etcd. Ports are kept per data dir so a
 * restarted member finds its own URLs.
 */
const etcdPorts = new Map<string, [number, number]>();
export async function startEtcdOn(dataDir: string): Promise<Server> {
  let ports = etcdPorts.get(dataDir);
  if (!ports) {
    ports = [await freePort(), await freePort()];
    etcdPorts.set(dataDir, ports);
  }
  return startEtcd({ dataDir, ports });
}
