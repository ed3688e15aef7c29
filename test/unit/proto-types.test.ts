/**
 * src/rpc/proto-types/ is generated (`npm run gen:proto-types`) and committed: it must be exactly
 * what the generator makes from proto/ today, so a changed proto or option cannot go unnoticed.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const root = path.resolve(__dirname, '..', '..');
const committed = path.join(root, 'src', 'rpc', 'proto-types');
const fresh = mkdtempSync(path.join(tmpdir(), 'strata-proto-types-'));
afterAll(() => rmSync(fresh, { recursive: true, force: true }));

function files(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => path.relative(dir, path.join(e.parentPath, e.name)))
    .sort();
}

describe('generated message types', () => {
  it('match a fresh generation with the npm script’s own command', () => {
    const script: string = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')).scripts['gen:proto-types'];
    const generate = script.slice(script.indexOf('proto-loader-gen-types'));
    expect(generate).toContain('-O src/rpc/proto-types ');
    const command = generate.replace('-O src/rpc/proto-types ', `-O ${fresh} `);
    const run = spawnSync('sh', ['-c', command], {
      cwd: root,
      env: { ...process.env, PATH: `${path.join(root, 'node_modules', '.bin')}:${process.env.PATH}` },
      encoding: 'utf8',
    });
    expect(run.status, run.stderr).toBe(0);
    const names = files(fresh);
    expect(names.length).toBeGreaterThan(50);
    expect(files(committed)).toEqual(names);
    for (const name of names) {
      expect(readFileSync(path.join(committed, name), 'utf8'), name).toBe(readFileSync(path.join(fresh, name), 'utf8'));
    }
  });
});
