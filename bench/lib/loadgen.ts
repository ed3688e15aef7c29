/**
 * The Go load generator (bench/loadgen/main.go): built offline in GOPATH mode from Debian's
 * golang-go and golang-etcd-server-dev, run once per measurement; it prints JSON lines.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { run, spawnChild } from './proc';

/** bench/, whether this file runs from bench/lib (vitest) or from its compiled copy in bench/.build/lib. */
export const BENCH_DIR =
  path.basename(path.resolve(__dirname, '..')) === '.build' ? path.resolve(__dirname, '../..') : path.resolve(__dirname, '..');
export const GO_BIN = process.env.GO_BIN ?? '/usr/bin/go';
export const GOCODE = process.env.GOCODE ?? '/usr/share/gocode';
/** What the Go program imports; present when golang-etcd-server-dev is installed. */
export const CLIENTV3_DIR = path.join(GOCODE, 'src/go.etcd.io/etcd/clientv3');
export const LOADGEN_SRC = path.join(BENCH_DIR, 'loadgen');
export const LOADGEN_BIN = path.join(BENCH_DIR, '.build', 'loadgen');

/** Builds the load generator (Go's build cache makes a rebuild about a second); returns its path. */
export function buildLoadgen(out = LOADGEN_BIN): string {
  mkdirSync(path.dirname(out), { recursive: true });
  const gopath = mkdtempSync(path.join(tmpdir(), 'strata-bench-gopath-'));
  try {
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      GO111MODULE: 'off', // GOPATH mode: imports come from /usr/share/gocode, nothing is downloaded
      GOPATH: `${gopath}:${GOCODE}`,
      GOPROXY: 'off',
      GOFLAGS: '',
      CGO_ENABLED: '0',
    };
    // Go needs a build cache; without HOME (some CI shells) give it one under the temp dir.
    if (!env.GOCACHE && !env.HOME && !env.XDG_CACHE_HOME) env.GOCACHE = path.join(tmpdir(), 'strata-bench-gocache');
    const r = run(GO_BIN, ['build', '-o', out, '.'], { env, cwd: LOADGEN_SRC, timeoutMs: 300_000 });
    if (r.code !== 0) throw new Error(`go build of ${LOADGEN_SRC} failed:\n${r.stderr}${r.stdout}`);
    return out;
  } finally {
    rmSync(gopath, { recursive: true, force: true });
  }
}

/** One JSON line from the load generator. */
export type Line = Record<string, unknown>;

export interface LoadgenArgs {
  endpoint: string;
  workload: string;
  /** Server CPU accounting: label → pids (summed). */
  pids?: Record<string, number[]>;
  [flag: string]: string | number | Record<string, number[]> | undefined;
}

/** Runs one load generator invocation and returns its JSON lines; rejects on a fatal line or exit code. */
export async function runLoadgen(bin: string, a: LoadgenArgs, timeoutMs = 120_000): Promise<Line[]> {
  const args: string[] = [];
  for (const [k, v] of Object.entries(a)) {
    if (v === undefined) continue;
    if (k === 'pids') {
      const spec = Object.entries(v as Record<string, number[]>)
        .flatMap(([label, ps]) => ps.map((p) => `${label}:${p}`))
        .join(',');
      if (spec) args.push('-pids', spec);
      continue;
    }
    args.push(`-${k}`, String(v));
  }
  const child = spawnChild(bin, args);
  const timer = setTimeout(() => void child.stop(1000), timeoutMs);
  const code = await child.exited;
  clearTimeout(timer);
  const lines: Line[] = [];
  for (const text of child.stdout().split('\n')) {
    const t = text.trim();
    if (!t.startsWith('{')) continue;
    try {
      lines.push(JSON.parse(t) as Line);
    } catch {
      // a partial line: ignore
    }
  }
  const fatal = lines.find((l) => typeof l.fatal === 'string');
  if (fatal || code !== 0 || lines.length === 0) {
    throw new Error(`loadgen ${args.join(' ')} failed (exit ${code}): ${fatal ? String(fatal.fatal) : child.output().slice(-2000)}`);
  }
  return lines;
}
