// A 100,000-key snapshot (1 KiB values, overwrites, deletes, a compaction: about 150 MB) is written
// without holding the file in memory: the rows are generated as they are read, and the process's
// RSS, sampled while the file is written, grows by far less than the file's size. etcdctl then
// reads the whole file.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { EtcdBackendInput } from '../../src/snapshot/backend-writer';
import { snapshotStatus } from '../../src/snapshot/status';
import { writeSnapshotFile } from '../../src/snapshot/snapshot-file';
import { boltCheck, buildBboltCheck } from '../helpers/bbolt-check';
import { largeHistory } from '../helpers/large-history';
import { ETCDCTL_BIN, haveTool } from '../helpers/servers';
import { note } from '../helpers/notice';

const KEYS = 100_000;
const dir = mkdtempSync(path.join(tmpdir(), 'strata-snapshot-large-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function input(keys: number): EtcdBackendInput {
  const h = largeHistory(keys);
  return {
    revision: h.revision,
    compactRevision: h.compactRevision,
    rows: h.rows,
    leases: [],
    member: { id: 0x8e9e05c52164694dn, name: 'default', peerURLs: [], clientURLs: ['http://127.0.0.1:2379'] },
    serverVersion: '3.5.21',
    term: 1,
  };
}

/** Writes a snapshot while sampling RSS every 10 ms; returns the file's size and RSS before and at its peak. */
async function measured(file: string, keys: number) {
  const before = process.memoryUsage().rss;
  let peak = before;
  const timer = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 10);
  const started = Date.now();
  try {
    const { size } = await writeSnapshotFile(file, input(keys));
    return { size, before, peak: Math.max(peak, process.memoryUsage().rss), ms: Date.now() - started };
  } finally {
    clearInterval(timer);
  }
}

describe('a 100,000-key snapshot', () => {
  const file = path.join(dir, 'large.snapshot');

  it('is written with bounded memory', async () => {
    // A small one first, so the heap's growth to its working size is not counted as the snapshot's.
    await measured(path.join(dir, 'warm-up.snapshot'), 10_000);
    const m = await measured(file, KEYS);
    const mib = (n: number) => Math.round(n / 2 ** 20);
    note(
      `snapshot of ${KEYS} keys: ${mib(m.size)} MiB in ${m.ms} ms; RSS ${mib(m.before)} MiB before, ${mib(m.peak)} MiB at most while writing (+${mib(m.peak - m.before)} MiB)`,
    );
    expect(m.size).toBeGreaterThan(140 * 2 ** 20);
    expect(m.peak - m.before).toBeLessThan(m.size / 2);
  }, 120_000);

  it('is read whole by etcdctl snapshot status, and by real bbolt', async () => {
    const h = largeHistory(KEYS);
    const mine = await snapshotStatus(file);
    // Every put and delete stays (the compaction point is before the overwrites), and 7 pairs in
    // other buckets: auth revision, cluster version, the member, 4 meta keys.
    expect(mine).toMatchObject({ revision: h.revision, totalKey: h.revision - 1 + 7 });
    if (haveTool(ETCDCTL_BIN, 'etcdctl')) {
      const r = spawnSync(ETCDCTL_BIN, ['snapshot', 'status', file, '-w', 'json'], {
        env: { ...process.env, ETCDCTL_API: '3' },
        encoding: 'utf8',
      });
      expect(r.status).toBe(0);
      expect(JSON.parse(r.stdout)).toEqual(mine);
    }
    const bin = buildBboltCheck();
    if (bin) expect(boltCheck(bin, file, { pairs: false }).errors).toEqual([]);
  }, 120_000);
});
