/**
 * A large history generated on the fly, never held in memory: `keys` puts of 1 KiB values (one
 * revision each), then overwrites of every tenth key and deletes of every twentieth. The shape of
 * the benchmark's memory workload, for measuring a snapshot of it.
 */
import type { LogRow } from '../../src/log/types';

export interface LargeHistory {
  /** The last revision. */
  revision: number;
  /** Where it is compacted: after the initial puts. */
  compactRevision: number;
  rows: () => Generator<LogRow>;
}

const key = (i: number) => Buffer.from(`/registry/pods/default/pod-${String(i).padStart(6, '0')}`);
const EMPTY = Buffer.alloc(0);

export function largeHistory(keys: number): LargeHistory {
  const overwrites = Math.floor(keys / 10);
  const deletes = Math.floor(keys / 20);
  const compactRevision = keys + 1;
  return {
    revision: keys + 1 + overwrites + deletes,
    compactRevision,
    *rows() {
      let rev = 1;
      for (let i = 0; i < keys; i++) {
        rev++;
        yield {
          revision: rev,
          sub: 0,
          key: key(i),
          createRevision: rev,
          prevRevision: 0,
          version: 1,
          lease: 0n,
          value: Buffer.alloc(1024, i & 0xff),
          deleted: false,
        };
      }
      for (let j = 0; j < overwrites; j++) {
        rev++;
        const i = j * 10;
        yield {
          revision: rev,
          sub: 0,
          key: key(i),
          createRevision: i + 2,
          prevRevision: i + 2,
          version: 2,
          lease: 0n,
          value: Buffer.alloc(1024, (i + 1) & 0xff),
          deleted: false,
        };
      }
      for (let j = 0; j < deletes; j++) {
        rev++;
        const i = j * 20 + 5;
        yield {
          revision: rev,
          sub: 0,
          key: key(i),
          createRevision: 0,
          prevRevision: i + 2,
          version: 0,
          lease: 0n,
          value: EMPTY,
          deleted: true,
        };
      }
    },
  };
}
