/**
 * An instance that falls behind (here: paused with SIGSTOP, as a long GC pause or a lost database
 * connection would) while another instance deletes a key and compacts the log physically. The rows
 * it would catch up from are gone; it must still not serve the deleted key. Reproduces a bug found
 * while writing the multi-instance tests: the follower read only the rows after its applied
 * revision, and the compactor had deleted the tombstone among them.
 */
import { expect, test } from 'vitest';
import { b, prefixEnd, s, type Msg } from '../helpers/client';
import { forEachSharedBackend, num, openWatch, watchEvents, type Cluster } from './multi-harness';

const rev = (m: Msg): number => num(m.header.revision);

forEachSharedBackend('multi-instance-lag', 3, (cl: Cluster) => {
  const C = (i: number) => cl.clients[i];
  test('an instance paused (SIGSTOP) across a delete and a physical compaction does not keep the deleted key', async () => {
    const p = cl.prefix('paused-compaction');
    const key = b(p + 'k');
    const PAUSED = 2;
    await C(0).kv.Put({ key, value: b('old') });
    // The paused instance has the key, and a watch on it.
    expect((await C(PAUSED).kv.Range({ key })).kvs.map((x: Msg) => s(x.value))).toEqual(['old']);
    const { w, id } = await openWatch(cl, C(PAUSED), { key: b(p), range_end: prefixEnd(p) });
    const proc = cl.servers[PAUSED].proc;
    proc.kill('SIGSTOP');
    let delRev: number;
    let sentinel: number;
    try {
      delRev = rev(await C(0).kv.DeleteRange({ key }));
      for (let i = 0; i < 5; i++) await C(1).kv.Put({ key: b(p + 'other'), value: b(String(i)) });
      const now = rev(await C(1).kv.Range({ key: b(p + 'other') }));
      await C(1).kv.Compact({ revision: now, physical: true });
      sentinel = rev(await C(0).kv.Put({ key: b(p + 'zz'), value: b('end') }));
    } finally {
      proc.kill('SIGCONT');
    }
    // The running instances agree the key is gone.
    for (const i of [0, 1]) expect((await C(i).kv.Range({ key })).kvs, `key through instance ${i}`).toEqual([]);
    // A linearizable read on the resumed instance must not answer the deleted key.
    const got = await C(PAUSED).kv.Range({ key: b(p), range_end: prefixEnd(p) });
    expect(rev(got)).toBeGreaterThanOrEqual(sentinel);
    expect(
      got.kvs.map((x: Msg) => s(x.key)),
      'keys through the resumed instance',
    ).toEqual([p + 'other', p + 'zz']);
    // Its watch gets the DELETE, or is canceled as compacted; it never skips it silently.
    await w.until((rs) => rs.some((r) => r.canceled) || watchEvents(w, id).some((e) => num(e.kv.mod_revision) >= sentinel), 15_000);
    const canceled = w.responses.some((r) => r.canceled);
    if (!canceled)
      expect(
        watchEvents(w, id)
          .filter((e) => e.type === 'DELETE')
          .map((e) => num(e.kv.mod_revision)),
      ).toEqual([delRev]);
  });
});
