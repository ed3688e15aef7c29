/**
 * A watcher whose client stops reading: the server's stream buffer fills while writes go on. etcd
 * moves such watchers to its unsynced set and catches them up later; nothing may be lost, repeated
 * or reordered when the client reads again.
 */
import { expect, test } from 'vitest';
import { b, prefixEnd, s, type Msg } from '../helpers/client';
import { forEachTarget, hrev, n, pool } from './harness';
import { createWatch, openStream, pause } from './watchutil';

forEachTarget('watch slow consumer', (ctx) => {
  test('reliable under backpressure: a paused reader gets every event once, in order', async () => {
    const p = ctx.prefix('slow');
    const w = openStream(ctx);
    const created = await createWatch(w, { key: b(p), range_end: prefixEnd(p), prev_kv: true });
    const id = created.watch_id as string;
    // Stop reading: HTTP/2 flow control then backs up into the server's stream buffer.
    w.stream.pause();
    const value = Buffer.alloc(4096, 0x61);
    const total = 1500;
    const acked = await pool(total, 32, async (i) => hrev(await ctx.c.kv.Put({ key: b(`${p}${i % 50}`), value })));
    await pause(300);
    w.stream.resume();
    const last = Math.max(...acked);
    await w.until((rs) => rs.some((r: Msg) => r.watch_id === id && (r.events as Msg[]).some((e) => n(e.kv.mod_revision) === last)), 30_000);
    const evs = w.responses.filter((r) => r.watch_id === id).flatMap((r) => r.events as Msg[]);
    const revs = evs.map((e) => n(e.kv.mod_revision));
    expect(revs).toEqual([...acked].sort((a, c) => a - c));
    // prev_kv survives the catch-up path: every update carries the value before it.
    for (const e of evs) if (n(e.kv.version) > 1) expect(n(e.prev_kv.mod_revision)).toBeLessThan(n(e.kv.mod_revision));
    expect(new Set(evs.map((e) => s(e.kv.key))).size).toBe(50);
    w.close();
  }, 60_000);
});
