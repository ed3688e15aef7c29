/**
 * Random strata log histories for property tests: puts (some with a lease), deletes and multi-key
 * txns over a few keys, turned into the rows strata's writer appends (revision and sub, create
 * revision, version, prev_revision pointing at the key's previous row, tombstones), and a model of
 * what etcd holds after compacting them.
 */
import fc from 'fast-check';
import type { LogRow } from '../../src/log/types';

type Op = { kind: 'put'; key: number; value: number; lease: boolean } | { kind: 'del'; key: number };

const op: fc.Arbitrary<Op> = fc.oneof(
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('put' as const), key: fc.nat(7), value: fc.nat(1000), lease: fc.boolean() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('del' as const), key: fc.nat(7) }) },
);

/** Each element is one revision: one or more ops on distinct keys. */
export const historyOps = fc.array(fc.uniqueArray(op, { minLength: 1, maxLength: 3, selector: (o) => o.key }), { maxLength: 40 });

const EMPTY = Buffer.alloc(0);

/** The rows a history writes, from revision 2 (etcd's first write); deletes of absent keys write nothing. */
export function historyRows(revs: Op[][]): LogRow[] {
  const rows: LogRow[] = [];
  const live = new Map<number, LogRow>();
  const lastRev = new Map<number, number>();
  let revision = 1;
  for (const ops of revs) {
    const mine = ops.filter((o) => o.kind === 'put' || live.has(o.key));
    if (mine.length === 0) continue;
    revision++;
    mine.forEach((o, sub) => {
      const key = Buffer.from(`key-${o.key}`);
      const prev = live.get(o.key);
      const prevRevision = lastRev.get(o.key) ?? 0;
      lastRev.set(o.key, revision);
      if (o.kind === 'del') {
        live.delete(o.key);
        rows.push({ revision, sub, key, createRevision: 0, prevRevision, version: 0, lease: 0n, value: EMPTY, deleted: true });
        return;
      }
      const row: LogRow = {
        revision,
        sub,
        key,
        createRevision: prev?.createRevision ?? revision,
        prevRevision,
        version: (prev?.version ?? 0) + 1,
        lease: o.lease ? 0x7000n + BigInt(o.key) : 0n,
        value: Buffer.from(`v${o.value}`),
        deleted: false,
      };
      live.set(o.key, row);
      rows.push(row);
    });
  }
  return rows;
}

/** The model of etcd's key bucket after compacting at `c`: rows above c, and each key's last live one at or below it. */
export function modelRetained(rows: LogRow[], c: number): LogRow[] {
  const lastAtOrBelow = new Map<string, LogRow>();
  for (const r of rows) if (r.revision <= c) lastAtOrBelow.set(r.key.toString(), r);
  return rows.filter((r) => r.revision > c || (lastAtOrBelow.get(r.key.toString()) === r && !r.deleted));
}
