/** Range over the index at one revision, with etcd's limit, count, sort and revision filters. */
import { Errors } from '../errors';
import type { LogRow } from '../log/types';
import { keyRange } from './key-range';
import type { KeyHistory, RevisionIndex } from './revision-index';
import { SortOrder, SortTarget, type KeyValue, type RangeRequest } from './types';

const EMPTY = Buffer.alloc(0);

/** Checks a read revision against the compacted and current revisions, as etcd's mvcc does. */
export function checkReadRevision(index: RevisionIndex, requested: number, current: number): number {
  if (requested > current) throw Errors.futureRev();
  const rev = requested <= 0 ? current : requested;
  if (rev < index.compactRevision) throw Errors.compacted();
  return rev;
}

/** A version as etcd's KeyValue. */
export function toKeyValue(v: LogRow, keysOnly = false): KeyValue {
  return {
    key: v.key,
    create_revision: v.createRevision,
    mod_revision: v.revision,
    version: v.version,
    value: keysOnly ? EMPTY : v.value,
    lease: v.lease,
  };
}

export interface RangeResult {
  kvs: KeyValue[];
  count: number;
  more: boolean;
}

/**
 * Reads `req` at revision `rev` (already checked against the compacted and current revisions).
 * As in etcd, `count` is every key in the range at `rev`; min/max filters and sort apply to the
 * keys read, and limit last.
 */
export function readRange(index: RevisionIndex, req: RangeRequest, rev: number): RangeResult {
  const r = keyRange(req.key, req.range_end);
  const filtered =
    req.min_mod_revision !== 0 || req.max_mod_revision !== 0 || req.min_create_revision !== 0 || req.max_create_revision !== 0;
  // As etcd: the fetch limit is decided on the requested order, before a non-key target defaults
  // the order to ASCEND — so `--sort-by=VALUE --limit N` sorts only the first N+1 keys.
  const fetchAll = req.sort_order !== SortOrder.NONE || filtered;
  const fetchLimit = !fetchAll && req.limit > 0 ? req.limit + 1 : Infinity;
  let order = req.sort_order as SortOrder;
  if (req.sort_target !== SortTarget.KEY && order === SortOrder.NONE) order = SortOrder.ASCEND;
  // Keys come out in ascending key order, so that sort needs no work.
  const sorted = order !== SortOrder.NONE && !(req.sort_target === SortTarget.KEY && order === SortOrder.ASCEND);

  let count = 0;
  const picked: Array<[KeyHistory, LogRow]> = [];
  if (req.count_only) {
    // At the committed revision the per-chunk live counts answer without a walk.
    if (rev === index.revision) return { kvs: [], count: index.countLive(r), more: false };
    index.forEachHistory(r, (h) => void (h.at(rev) && count++));
    return { kvs: [], count, more: false };
  }
  index.forEachHistory(r, (h) => {
    const v = h.at(rev);
    if (!v) return;
    count++;
    if (picked.length >= fetchLimit) return;
    if (filtered && !passes(req, v)) return;
    picked.push([h, v]);
  });

  if (sorted) sortLogRows(picked, req.sort_target as SortTarget, order);
  let more = false;
  if (req.limit > 0 && picked.length > req.limit) {
    picked.length = req.limit;
    more = true;
  }
  return { kvs: picked.map(([, v]) => toKeyValue(v, req.keys_only)), count, more };
}

function passes(req: RangeRequest, v: LogRow): boolean {
  if (req.max_mod_revision !== 0 && v.revision > req.max_mod_revision) return false;
  if (req.min_mod_revision !== 0 && v.revision < req.min_mod_revision) return false;
  if (req.max_create_revision !== 0 && v.createRevision > req.max_create_revision) return false;
  if (req.min_create_revision !== 0 && v.createRevision < req.min_create_revision) return false;
  return true;
}

function sortLogRows(items: Array<[KeyHistory, LogRow]>, target: SortTarget, order: SortOrder): void {
  const sign = order === SortOrder.DESCEND ? -1 : 1;
  const cmp = (a: [KeyHistory, LogRow], b: [KeyHistory, LogRow]): number => {
    switch (target) {
      case SortTarget.KEY:
        return a[0].k < b[0].k ? -1 : a[0].k > b[0].k ? 1 : 0;
      case SortTarget.VERSION:
        return a[1].version - b[1].version;
      case SortTarget.CREATE:
        return a[1].createRevision - b[1].createRevision;
      case SortTarget.MOD:
        return a[1].revision - b[1].revision;
      case SortTarget.VALUE:
        return Buffer.compare(a[1].value, b[1].value);
    }
  };
  // Array.prototype.sort is stable: ties keep ascending key order, as etcd answers them.
  items.sort((a, b) => sign * cmp(a, b));
}
