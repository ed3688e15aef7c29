/** Range over the index at one revision, with etcd's limit, count, sort and revision filters. */
import { Errors } from '../errors';
import type { LogRow } from '../log/types';
import { keyRange } from './key-range';
import type { Version } from './kv-bytes';
import type { RevisionIndex } from './revision-index';
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

/** A version as a read returns it: with its encoded bytes, kept since it was stored. */
function readKeyValue(v: Version, keysOnly: boolean): KeyValue {
  if (keysOnly) return toKeyValue(v, true);
  const encoded = v.bytes();
  return {
    key: v.key,
    create_revision: v.createRevision,
    mod_revision: v.revision,
    version: v.version,
    value: v.value,
    lease: v.lease,
    encoded,
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

  // At the committed revision the per-chunk live counts answer without a walk.
  if (req.count_only) return { kvs: [], count: index.countAt(r, rev), more: false };
  let count = 0;
  const rows: Version[] = [];
  const keys: string[] = [];
  if (fetchLimit === Infinity) {
    index.forEachHistory(r, (h) => {
      const v = h.at(rev);
      if (!v) return;
      count++;
      if (filtered && !passes(req, v)) return;
      rows.push(v);
      if (sorted) keys.push(h.k);
    });
  } else {
    // A limited read stops at limit + 1 keys; the count comes from the per-chunk counts.
    index.forEachHistory(r, (h) => {
      const v = h.at(rev);
      if (v) {
        rows.push(v);
        if (sorted) keys.push(h.k);
      }
      return rows.length < fetchLimit;
    });
    count = rows.length < fetchLimit ? rows.length : index.countAt(r, rev);
  }

  const picked = sorted ? sortRows(rows, keys, req.sort_target as SortTarget, order) : rows;
  let more = false;
  if (req.limit > 0 && picked.length > req.limit) {
    picked.length = req.limit;
    more = true;
  }
  const kvs = new Array<KeyValue>(picked.length);
  for (let i = 0; i < picked.length; i++) kvs[i] = readKeyValue(picked[i], req.keys_only);
  return { kvs, count, more };
}

function passes(req: RangeRequest, v: Version): boolean {
  if (req.max_mod_revision !== 0 && v.revision > req.max_mod_revision) return false;
  if (req.min_mod_revision !== 0 && v.revision < req.min_mod_revision) return false;
  if (req.max_create_revision !== 0 && v.createRevision > req.max_create_revision) return false;
  if (req.min_create_revision !== 0 && v.createRevision < req.min_create_revision) return false;
  return true;
}

function sortRows(rows: Version[], keys: string[], target: SortTarget, order: SortOrder): Version[] {
  const sign = order === SortOrder.DESCEND ? -1 : 1;
  const cmp = (a: number, b: number): number => {
    switch (target) {
      case SortTarget.KEY:
        return keys[a] < keys[b] ? -1 : keys[a] > keys[b] ? 1 : 0;
      case SortTarget.VERSION:
        return rows[a].version - rows[b].version;
      case SortTarget.CREATE:
        return rows[a].createRevision - rows[b].createRevision;
      case SortTarget.MOD:
        return rows[a].revision - rows[b].revision;
      case SortTarget.VALUE:
        return Buffer.compare(rows[a].value, rows[b].value);
    }
  };
  // Array.prototype.sort is stable: ties keep ascending key order, as etcd answers them.
  const at = rows.map((_, i) => i).sort((a, b) => sign * cmp(a, b));
  return at.map((i) => rows[i]);
}
