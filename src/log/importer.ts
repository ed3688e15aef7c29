/**
 * Writing another store's history into the log with its own numbers: every row at the revision
 * (and sub-revision) the source gave it, its versions, create revisions and leases, the source's
 * current and compact revisions as the marks. One transaction: an import is whole or not at all.
 * A store that already holds anything is refused unless the caller replaces it.
 */
import { randomBytes } from 'node:crypto';
import type { Dialect, LogRow } from '../dialect/dialect';
import { MARKS, META, marksFrom } from './meta';
import { othersLease } from './solo';
import { sleep } from './backoff';
import { openSchema } from './schema';

export interface ImportLease {
  id: bigint;
  /** Granted TTL in seconds; an imported lease gets it in full from the moment of the import. */
  ttl: number;
}

export interface ImportSource {
  /** What the source was read as, for messages. */
  description: string;
  /** The source's current revision (at least its last row's). */
  revision: number;
  /** The source's compact revision; -1 or 0 when it was never compacted. */
  compactRevision: number;
  /** Every row the source holds, in (revision, sub) order, each with its key's previous revision. */
  rows(): AsyncIterable<LogRow>;
  leases(): AsyncIterable<ImportLease>;
}

interface ImportOptions {
  /** Replace a store that is not empty (its keys and leases; users and roles stay). */
  force: boolean;
  /** Called every `progressMs` while rows are written. */
  progress(p: { rows: number; revision: number; of: number }): void;
  progressMs?: number;
}

export interface ImportResult {
  rows: number;
  leases: number;
  revision: number;
  compactRevision: number;
}

/** The store a refused import found. */
class NotEmptyError extends Error {
  override name = 'NotEmptyError';
}

const BATCH_ROWS = 1000;

export async function importLog(dialect: Dialect, source: ImportSource, opts: ImportOptions): Promise<ImportResult> {
  await openSchema(dialect);
  for (;;) {
    const out = await importOnce(dialect, source, opts);
    if (!('waitMs' in out)) return out;
    // A running instance's solo lease stands (revoked now): nothing may commit until it ends.
    await sleep(out.waitMs + 5);
  }
}

function importOnce(dialect: Dialect, source: ImportSource, opts: ImportOptions): Promise<ImportResult | { waitMs: number }> {
  return dialect.write(async (tx) => {
    const { values, nowMs } = await tx.lockMeta(MARKS);
    const marks = marksFrom(values);
    const solo = othersLease(marks.solo, 'import', nowMs);
    if (solo?.kind === 'wait') {
      if (solo.write !== undefined) await tx.setMeta({ [META.soloLease]: solo.write });
      return { waitMs: solo.waitMs };
    }
    const leasesHeld = await tx.loadLeases();
    if (marks.revision > 1 || leasesHeld.length > 0) {
      if (!opts.force) {
        throw new NotEmptyError(
          `the store is not empty (revision ${marks.revision}, ${leasesHeld.length} leases); import into an empty database, or pass --force to replace its keys and leases`,
        );
      }
      await tx.clearLog();
    }
    let rows = 0;
    let last = { revision: 0, sub: -1 };
    let batch: LogRow[] = [];
    let reported = Date.now();
    for await (const row of source.rows()) {
      if (row.revision < last.revision || (row.revision === last.revision && row.sub <= last.sub)) {
        throw new Error(`${source.description}: row ${row.revision}_${row.sub} comes after ${last.revision}_${last.sub}`);
      }
      if (row.revision > source.revision)
        throw new Error(`${source.description}: row at ${row.revision} is past its revision ${source.revision}`);
      last = { revision: row.revision, sub: row.sub };
      batch.push(row);
      if (batch.length >= BATCH_ROWS) {
        await tx.insertRows(batch);
        rows += batch.length;
        batch = [];
        if (Date.now() - reported >= (opts.progressMs ?? 3000)) {
          reported = Date.now();
          opts.progress({ rows, revision: last.revision, of: source.revision });
        }
      }
    }
    if (batch.length > 0) await tx.insertRows(batch);
    rows += batch.length;
    const leases = [];
    for await (const l of source.leases()) leases.push({ id: l.id, ttl: l.ttl, expiresAt: nowMs + l.ttl * 1000 });
    if (leases.length > 0) await tx.upsertLeases(leases);
    const revision = Math.max(1, source.revision, last.revision);
    const compactRevision = source.compactRevision > 0 ? source.compactRevision : -1;
    await tx.setMeta({
      [META.revision]: String(revision),
      [META.compactRevision]: String(compactRevision),
      // Only rows etcd keeps after its compaction were imported: nothing is left to delete.
      [META.compactDone]: String(Math.max(0, compactRevision)),
      [META.leaseStamp]: randomBytes(8).toString('hex'),
      // Whoever held the solo lease has not seen this import.
      [META.soloLease]: '',
    });
    return { rows, leases: leases.length, revision, compactRevision };
  });
}
