/**
 * The Go checker of test/bbolt-check: real bbolt (Debian's golang-github-coreos-bbolt-dev, pulled
 * in by golang-etcd-server-dev) opening a file, running its consistency check and dumping it.
 * Built offline in GOPATH mode, as the benchmark's load generator is.
 */
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { buildGoProgram } from './go-program';

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
  return buildGoProgram({
    src: SRC,
    name: 'bbolt-check',
    needs: { file: 'go.etcd.io/bbolt/db.go', what: "bbolt's Go source", install: 'apt-get install -y golang-github-coreos-bbolt-dev' },
  });
}

/** Runs the checker on a file: `pairs` prints every pair, `mutate` first writes to it as etcd's restore does. */
export function boltCheck(bin: string, file: string, opts: { pairs?: boolean; mutate?: boolean } = {}): BoltDump {
  const args = [`-pairs=${opts.pairs ?? true}`, ...(opts.mutate ? ['-mutate'] : []), file];
  const r = spawnSync(bin, args, { encoding: 'utf8', maxBuffer: 256 << 20, timeout: 120_000 });
  if (r.status !== 0) throw new Error(`bbolt-check ${args.join(' ')} failed (${r.status}): ${r.stderr}`);
  return JSON.parse(r.stdout) as BoltDump;
}
