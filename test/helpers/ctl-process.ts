/** A long-running etcdctl (lock, elect): its output as it comes, and ways to end it. */
import { spawn } from 'node:child_process';
import { ETCDCTL_BIN } from './servers';
import { waitFor } from './ports';

export class CtlProcess {
  stdout = '';
  stderr = '';
  code: number | null | undefined;
  private readonly proc;
  readonly exited: Promise<number | null>;

  constructor(address: string, args: string[]) {
    this.proc = spawn(ETCDCTL_BIN, ['--endpoints', address, ...args], {
      env: { ...process.env, ETCDCTL_API: '3' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.proc.stdout.on('data', (d: Buffer) => (this.stdout += d.toString('utf8')));
    this.proc.stderr.on('data', (d: Buffer) => (this.stderr += d.toString('utf8')));
    this.exited = new Promise((resolve) =>
      this.proc.on('close', (c) => {
        this.code = c;
        resolve(c);
      }),
    );
  }

  /** Waits until stdout has `lines` complete lines (etcdctl prints a key and its value per event). */
  async lines(n: number, what: string, timeoutMs = 15_000): Promise<string[]> {
    await waitFor(() => this.stdout.split('\n').length > n || this.code !== undefined, timeoutMs, what);
    return this.stdout.split('\n').slice(0, n);
  }

  /** SIGTERM (etcdctl unlocks or resigns, then exits) and the exit code. */
  stop(): Promise<number | null> {
    if (this.code === undefined) this.proc.kill('SIGTERM');
    return this.exited;
  }

  /** SIGKILL: the session's lease is left to expire. */
  kill(): Promise<number | null> {
    if (this.code === undefined) this.proc.kill('SIGKILL');
    return this.exited;
  }
}
