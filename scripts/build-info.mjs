// Writes dist/build-info.json (the git commit strata was built from) for `strata --version`.
// Without a git checkout (a Docker build copies no .git) STRATA_GIT_SHA is used if set.
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
let sha = process.env.STRATA_GIT_SHA ?? '';
if (!sha) {
  try {
    sha = execFileSync('git', ['rev-parse', 'HEAD'], { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], { cwd: root, encoding: 'utf8' }).trim();
    if (dirty) sha += '-dirty';
  } catch {
    sha = '';
  }
}
mkdirSync(join(root, 'dist'), { recursive: true });
writeFileSync(join(root, 'dist/build-info.json'), `${JSON.stringify({ gitSha: sha || 'Not provided' })}\n`);
