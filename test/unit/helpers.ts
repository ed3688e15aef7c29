import type { LogRow } from '../../src/dialect/dialect';
import type { BatchContext } from '../../src/log/writer';
import { Mutation } from '../../src/mvcc/apply';
import { RevisionIndex } from '../../src/mvcc/index';
import { LeaseTable } from '../../src/mvcc/leases';
import type { PutRequest, RangeRequest } from '../../src/mvcc/types';

export const b = (s: string): Buffer => Buffer.from(s, 'latin1');

export function rangeReq(key: string, end = '', extra: Partial<RangeRequest> = {}): RangeRequest {
  return {
    key: b(key), range_end: b(end), limit: 0, revision: 0, sort_order: 0, sort_target: 0, serializable: false,
    keys_only: false, count_only: false, min_mod_revision: 0, max_mod_revision: 0, min_create_revision: 0,
    max_create_revision: 0, ...extra,
  };
}

export function putReq(key: string, value: string, extra: Partial<PutRequest> = {}): PutRequest {
  return { key: b(key), value: b(value), lease: 0n, prev_kv: false, ignore_value: false, ignore_lease: false, ...extra };
}

/** An in-memory stand-in for the writer: runs jobs as one batch per call, committing at once. */
export class Harness {
  readonly index = new RevisionIndex();
  readonly leases = new LeaseTable();
  readonly rows: LogRow[] = [];
  now = 1_000_000;

  run<T>(fn: (m: Mutation, ctx: BatchContext) => T): T {
    const undo: Array<() => void> = [];
    const staged: LogRow[] = [];
    const ctx: BatchContext = {
      revision: this.index.revision,
      nowMs: this.now,
      stage: (r) => void staged.push(r),
      upsertLease: () => undefined,
      deleteLease: () => undefined,
      setMeta: () => undefined,
      onUndo: (f) => void undo.push(f),
    };
    const m = new Mutation(this.index, this.leases, ctx);
    try {
      const out = fn(m, ctx);
      m.finish();
      this.index.commitTo(staged, ctx.revision);
      this.rows.push(...staged);
      return out;
    } catch (e) {
      for (let i = undo.length - 1; i >= 0; i--) undo[i]();
      throw e;
    }
  }
}
