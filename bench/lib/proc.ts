/** Process helpers for the benchmark: free ports, spawning with captured output, /proc readings. */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';

/** A TCP port on 127.0.0.1 that was free a moment ago. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** A spawned child whose output is kept (the tail) for error messages. */
export interface Child {
  proc: ChildProcess;
  pid: number;
  exited: Promise<number | null>;
  /** True once the process has exited. */
  dead(): boolean;
  output(): string;
  /** Standard output alone (the load generator's JSON lines; its client library logs to stderr). */
  stdout(): string;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves with the exit code. */
  stop(graceMs?: number): Promise<number | null>;
  /** SIGSTOP / SIGCONT: a paused server uses no CPU while another one is measured. */
  pause(): void;
  resume(): void;
}

export function spawnChild(bin: string, args: string[], env?: NodeJS.ProcessEnv): Child {
  const proc = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'], env: env ?? process.env });
  let out = '';
  let stdout = '';
  const keep = (d: Buffer) => {
    out += d.toString();
    if (out.length > 64_000) out = out.slice(-32_000);
  };
  proc.stdout?.on('data', (d: Buffer) => {
    keep(d);
    if (stdout.length < 16_000_000) stdout += d.toString();
  });
  proc.stderr?.on('data', keep);
  let isDead = false;
  const exited = new Promise<number | null>((resolve) => {
    proc.on('exit', (code, signal) => {
      isDead = true;
      resolve(code ?? (signal ? 128 : null));
    });
    proc.on('error', (e) => {
      out += `spawn error: ${e.message}\n`;
      isDead = true;
      resolve(null);
    });
  });
  if (proc.pid === undefined) isDead = true;
  return {
    proc,
    pid: proc.pid ?? -1,
    exited,
    dead: () => isDead,
    output: () => out,
    stdout: () => stdout,
    pause() {
      if (!isDead) proc.kill('SIGSTOP');
    },
    resume() {
      if (!isDead) proc.kill('SIGCONT');
    },
    async stop(graceMs = 20_000) {
      if (isDead) return exited;
      proc.kill('SIGCONT'); // a paused process would hold SIGTERM pending
      proc.kill('SIGTERM');
      const timer = setTimeout(() => {
        if (!isDead) proc.kill('SIGKILL');
      }, graceMs);
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
  };
}

/** Runs a command to completion; never throws. */
export function run(bin: string, args: string[], opts: { env?: NodeJS.ProcessEnv; timeoutMs?: number; input?: string; cwd?: string } = {}) {
  const r = spawnSync(bin, args, {
    encoding: 'utf8',
    env: opts.env ?? process.env,
    timeout: opts.timeoutMs ?? 60_000,
    input: opts.input,
    cwd: opts.cwd,
  });
  return { code: r.status, stdout: r.stdout ?? '', stderr: (r.stderr ?? '') + (r.error ? String(r.error) : '') };
}

/** Resident set size of a process in MiB (VmRSS), or NaN if it is gone. */
export function rssMiB(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+)\s+kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : NaN;
  } catch {
    return NaN;
  }
}

/** Pids of processes whose command line matches `test` (reads /proc; for the database servers). */
export function findPids(test: (cmdline: string, comm: string) => boolean): number[] {
  const out: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const cmdline = readFileSync(`/proc/${name}/cmdline`, 'utf8').replace(/\0/g, ' ').trim();
      const comm = readFileSync(`/proc/${name}/comm`, 'utf8').trim();
      if (test(cmdline, comm)) out.push(Number(name));
    } catch {
      // the process went away
    }
  }
  return out;
}

/** The 1-minute load average (a noise indicator recorded with every run). */
export function loadAverage(): number {
  try {
    return Number(readFileSync('/proc/loadavg', 'utf8').split(' ')[0]);
  } catch {
    return NaN;
  }
}
