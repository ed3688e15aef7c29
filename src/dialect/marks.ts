/** Reading the marks out of meta rows, the same for every dialect. */
import { MARK_NAMES, type Marks } from './dialect';

export const MARK_LIST = [MARK_NAMES.revision, MARK_NAMES.compactRevision, MARK_NAMES.leaseStamp] as const;

export function marksFrom(rows: ReadonlyArray<{ name: string; value: string }>): Marks {
  const m = new Map(rows.map((r) => [r.name, r.value]));
  const revision = m.get(MARK_NAMES.revision);
  if (revision === undefined) throw new Error('meta has no revision row: the schema was not initialised');
  return {
    revision: Number(revision),
    compactRevision: Number(m.get(MARK_NAMES.compactRevision) ?? '-1'),
    leaseStamp: m.get(MARK_NAMES.leaseStamp) ?? '',
  };
}
