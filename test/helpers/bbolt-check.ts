/**
 * The Go checker of test/bbolt-check: real bbolt (Debian's golang-github-coreos-bbolt-dev, pulled
 * in by golang-etcd-server-dev) opening a file, running its consistency check and dumping it.
 * Built offline in GOPATH mode, as the benchmark's load generator is.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { haveTool } from './servers';

const GO_BIN = process.env.GO_BIN ?? '/usr/bin/go';
const GOCODE = process.env.GOCODE ?? '/usr/share/gocode';
const SRC = path.resolve(__dirname, '../bbolt-check');

export interface BoltDump {
  errors: string[];
  pageSize: number;
  txid: number;
  size: number;
  freePages: number;
  buckets: { name: string; inline: boolean; depth: number; count: number; digest: string; pairs?: [string, string][] }[];
}

/** Builds the checker; undefined (after printing why) when Go or bbolt's source is missing outside CI. */
export function buildBboltCheck(): string | undefined {
  if (!haveTool(GO_BIN, 'go', 'apt-get install -y golang-go')) return undefined;
  if (!haveTool(path.join(GOCODE, 'src/go.etcd.io/bbolt/db.go'), "bbolt's Go source", 'apt-get install -y golang-github-coreos-bbolt-dev'))
    return undefined;
  const outDir = path.join(tmpdir(), 'strata-bbolt-check');
  mkdirSync(outDir, { recursive: true });
  const out = path.join(outDir, `bbolt-check-${process.pid}`);
  const gopath = mkdtempSync(path.join(tmpdir(), 'strata-bbolt-gopath-'));
  try {
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      GO111MODULE: 'off',
      GOPATH: `${gopath}:${GOCODE}`,
      GOPROXY: 'off',
      GOFLAGS: '',
      CGO_ENABLED: '0',
    };
    if (!env.GOCACHE && !env.HOME && !env.XDG_CACHE_HOME) env.GOCACHE = path.join(tmpdir(), 'strata-bbolt-gocache');
    const r = spawnSync(GO_BIN, ['build', '-o', out, '.'], { cwd: SRC, env, encoding: 'utf8', timeout: 300_000 });
    if (r.status !== 0 || !existsSync(out)) throw new Error(`go build of ${SRC} failed:\n${r.stderr}${r.stdout}`);
    return out;
  } finally {
    rmSync(gopath, { recursive: true, force: true });
  }
}

/** Runs the checker on a file: `pairs` prints every pair, `mutate` first writes to it as etcd's restore does. */
export function boltCheck(bin: string, file: string, opts: { pairs?: boolean; mutate?: boolean } = {}): BoltDump {
  const args = [`-pairs=${opts.pairs ?? true}`, ...(opts.mutate ? ['-mutate'] : []), file];
  const r = spawnSync(bin, args, { encoding: 'utf8', maxBuffer: 256 << 20, timeout: 120_000 });
  if (r.status !== 0) throw new Error(`bbolt-check ${args.join(' ')} failed (${r.status}): ${r.stderr}`);
  return JSON.parse(r.stdout) as BoltDump;
}
