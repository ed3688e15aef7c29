/** `strata --version` as etcd prints its own: the version, the git commit and the etcd API version, one per line. */
import { spawnSync } from 'node:child_process';
import { expect, it } from 'vitest';
import { STRATA_BIN } from '../helpers/servers';

it('strata --version names the version, the git commit and the etcd API version', () => {
  for (const flag of ['--version', '-v']) {
    const r = spawnSync(process.execPath, [STRATA_BIN, flag], { encoding: 'utf8' });
    expect(r.status).toBe(0);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^strata Version: \d+\.\d+\.\d+$/);
    expect(lines[1]).toMatch(/^Git SHA: ([0-9a-f]{40}(-dirty)?|Not provided)$/);
    expect(lines[2]).toMatch(/^etcd API Version: 3\.5 \(reports etcd 3\.5\.\d+; --emulated-etcd-version\)$/);
    expect(lines[3]).toBe(`Node Version: ${process.version}`);
    expect(lines[4]).toBe(`Node OS/Arch: ${process.platform}/${process.arch}`);
  }
});
