/** Auto compaction in a running strata: etcd's periodic and revision modes, kine's flags, and client compactions alongside. */
import * as grpc from '@grpc/grpc-js';
import { describe, expect, test } from 'vitest';
import { b } from '../helpers/client';
import { serverFixture, type Running } from '../helpers/fixture';
import { waitFor } from '../helpers/ports';

const COMPACTED = 'etcdserver: mvcc: required revision has been compacted';

async function putMany(s: Running, n: number): Promise<number> {
  let rev = 0;
  for (let i = 0; i < n; i++) rev = Number((await s.client.kv.Put({ key: b(`k${i % 3}`), value: b(String(i)) })).header.revision);
  return rev;
}

/** The compact revision as a client sees it: the lowest revision a Range still reads. */
async function compactedBelow(s: Running, rev: number): Promise<boolean> {
  try {
    await s.client.kv.Range({ key: b('k0'), revision: rev });
    return false;
  } catch (e) {
    return (e as grpc.ServiceError).code === grpc.status.OUT_OF_RANGE && (e as grpc.ServiceError).details === COMPACTED;
  }
}

describe('revision mode (kine flags)', () => {
  const s = serverFixture({ args: ['--compact-interval', '100ms', '--compact-min-retain', '5'] });
  test('keeps the newest 5 revisions; a client compaction beyond the target is tolerated', async () => {
    const rev = await putMany(s, 20);
    await waitFor(() => compactedBelow(s, rev - 6), 10_000, 'auto compaction to current − 5');
    expect(await compactedBelow(s, rev - 5)).toBe(false);
    // kube-apiserver style: the client compacts further than the auto compactor would.
    const rev2 = await putMany(s, 3);
    await s.client.kv.Compact({ revision: rev2 });
    await putMany(s, 2);
    // The auto compactor's next targets (≤ rev2) are at or below the compact revision: skipped.
    await new Promise((r) => setTimeout(r, 300));
    expect(s.server.logs()).not.toMatch(/auto compaction failed/);
  });
});

describe('periodic mode (etcd flags)', () => {
  const s = serverFixture({ args: ['--auto-compaction-mode', 'periodic', '--auto-compaction-retention', '1s'] });
  test('compacts to the revision of one retention ago', async () => {
    const first = await putMany(s, 5);
    await waitFor(() => compactedBelow(s, first - 1), 10_000, 'periodic auto compaction');
    // Samples are a tenth of the retention apart: what was written just now is still readable.
    const last = await putMany(s, 1);
    expect(await compactedBelow(s, last)).toBe(false);
  });
});

describe('auto compaction off', () => {
  const s = serverFixture({ args: ['--auto-compaction-retention', '0', '--log-level', 'info'] });
  test('retention 0 keeps all history', async () => {
    await putMany(s, 5);
    expect(await compactedBelow(s, 1)).toBe(false);
    expect(s.server.logs()).not.toMatch(/auto compaction on/);
  });
});
