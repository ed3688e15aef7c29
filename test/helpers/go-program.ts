/**
 * Go programs the tests run (test/bbolt-check, test/auth-client): built offline in GOPATH mode
 * from Debian's golang-go and the Go sources its -dev packages install, as the benchmark's load
 * generator is.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { haveTool } from './servers';

const GO_BIN = process.env.GO_BIN ?? '/usr/bin/go';
export const GOCODE = process.env.GOCODE ?? '/usr/share/gocode';

export interface GoProgram {
  /** The folder of its main package. */
  src: string;
  name: string;
  /** A file of the Go source it imports, and the Debian package that installs it. */
  needs: { file: string; what: string; install: string };
}

/** Builds the program; undefined (after printing why) when Go or its imports are missing outside CI. */
export function buildGoProgram(p: GoProgram): string | undefined {
  if (!haveTool(GO_BIN, 'go', 'apt-get install -y golang-go')) return undefined;
  if (!haveTool(path.join(GOCODE, 'src', p.needs.file), p.needs.what, p.needs.install)) return undefined;
  const outDir = path.join(tmpdir(), `strata-${p.name}`);
  mkdirSync(outDir, { recursive: true });
  const out = path.join(outDir, `${p.name}-${process.pid}`);
  const gopath = mkdtempSync(path.join(tmpdir(), `strata-${p.name}-gopath-`));
  try {
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      GO111MODULE: 'off',
      GOPATH: `${gopath}:${GOCODE}`,
      GOPROXY: 'off',
      GOFLAGS: '',
      CGO_ENABLED: '0',
    };
    if (!env.GOCACHE && !env.HOME && !env.XDG_CACHE_HOME) env.GOCACHE = path.join(tmpdir(), `strata-${p.name}-gocache`);
    const r = spawnSync(GO_BIN, ['build', '-o', out, '.'], { cwd: p.src, env, encoding: 'utf8', timeout: 300_000 });
    if (r.status !== 0 || !existsSync(out)) throw new Error(`go build of ${p.src} failed:\n${r.stderr}${r.stdout}`);
    return out;
  } finally {
    rmSync(gopath, { recursive: true, force: true });
  }
}
