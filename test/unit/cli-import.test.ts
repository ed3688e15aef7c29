// `strata import`'s flags: exactly one source, bad flags exit 2 with one line, help exits 0 on the
// help channel; no database is opened for any of these.
import { describe, expect, it } from 'vitest';
import { importCommand } from '../../src/cli-import';

async function run(argv: string[]): Promise<{ code: number; said: string[]; printed: string[] }> {
  const said: string[] = [];
  const printed: string[] = [];
  const code = await importCommand(
    argv,
    {},
    (l) => said.push(l),
    (t) => printed.push(t),
  );
  return { code, said, printed };
}

describe('strata import flags', () => {
  it('needs exactly one source', async () => {
    for (const argv of [[], ['--from-snapshot', 'a', '--from-etcd', 'http://x:2379']]) {
      const r = await run(argv);
      expect(r).toEqual({ code: 2, said: ['error: give exactly one of --from-snapshot, --from-etcd, --from-kine'], printed: [] });
    }
  });

  it('refuses unknown flags and bad endpoints with exit code 2', async () => {
    expect((await run(['--bogus'])).code).toBe(2);
    const bad = await run(['--endpoint', 'nosuch://x', '--from-snapshot', 'f']);
    expect(bad.code).toBe(2);
    expect(bad.said[0]).toMatch(/^error: /);
  });

  it('prints its help and exits 0', async () => {
    const r = await run(['--help']);
    expect(r.code).toBe(0);
    expect(r.printed[0]).toContain('Usage: strata import');
    expect(r.said).toEqual([]);
  });
});
