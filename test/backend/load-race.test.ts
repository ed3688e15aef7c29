/**
 * A start-up load that a compaction overtakes: rows read before the compaction committed may
 * include versions it deleted (a tombstone's put), so the load starts again at the new marks into
 * a new build, and the build it returns holds exactly the rows left at or below them.
 */
import { expect, it } from 'vitest';
import type { LogRow } from '../../src/dialect/dialect';
import { loadSnapshot } from '../../src/log/loader';
import { MARKS, marksFrom } from '../../src/log/meta';
import { forEachBackend } from '../helpers/targets';
import { del, put, storePerSuite } from './helpers';

const seen = (rows: LogRow[]) => rows.map((r) => `${r.key.toString()}@${r.revision}${r.deleted ? '-' : ''}`);

forEachBackend('load racing a compaction', (backend) => {
  const fx = storePerSuite(backend, 'load-race');

  it('repeats into a new build and returns the one with exactly the rows left', async () => {
    const base = fx.store.revision;
    await fx.store.put(put('a', '1')); // base+1
    await fx.store.put(put('b', '1')); // base+2
    await fx.store.deleteRange(del('b')); // base+3: tombstone
    await fx.store.put(put('a', '2')); // base+4
    const at = fx.store.revision;
    await fx.store.put(put('c', '1')); // base+5
    const first = marksFrom(await fx.dialect.readMeta(MARKS));
    const builds: LogRow[][] = [];
    let compacted = false;
    // The compaction commits after the rows were read, before the loader checks its marks.
    const readMarks = async () => {
      if (!compacted) {
        compacted = true;
        await fx.store.compact({ revision: at, physical: true });
      }
      return marksFrom(await fx.dialect.readMeta(MARKS));
    };
    const loaded = await loadSnapshot(fx.dialect, readMarks, first, () => {
      const rows: LogRow[] = [];
      builds.push(rows);
      return { rows, add: (rs: LogRow[]) => void rows.push(...rs) };
    });

    expect(builds).toHaveLength(2);
    const mine = (rows: LogRow[]) => seen(rows.filter((r) => r.revision > base));
    expect(mine(builds[0])).toEqual([`a@${base + 1}`, `b@${base + 2}`, `b@${base + 3}-`, `a@${base + 4}`, `c@${base + 5}`]);
    expect(loaded.build.rows).toBe(builds[1]);
    expect(mine(builds[1])).toEqual([`a@${base + 4}`, `c@${base + 5}`]);
    expect(loaded.rows).toBe(builds[1].length);
    expect(loaded.snapshot.compactRevision).toBe(at);
    expect(seen(builds[1])).toEqual(seen((await fx.dialect.loadRows(0, -1, 10_000)).filter((r) => r.revision <= loaded.snapshot.revision)));
  });
});
