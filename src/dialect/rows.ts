/**
 * Rows as the three drivers return them, turned into the log's rows. Integers arrive as bigint
 * (better-sqlite3 with safe integers), as decimal strings (node-postgres's int8, mysql2 with
 * bigNumberStrings) or as numbers (32-bit columns); a flag as a boolean (PostgreSQL) or as 0 / 1.
 */
import type { KineRow, LeaseRow, LockedMeta, LogRow } from './dialect';

/** An integer column as some driver returns it. */
type DbInteger = bigint | string | number;

/**
 * A log row as the array of its columns in the log table's order (revision, sub, key,
 * create_revision, prev_revision, version, lease, value, deleted): drivers asked for arrays skip
 * building an object with named fields per row, which a start-up that reads millions pays for.
 */
export type RawLogColumns = [
  revision: DbInteger,
  sub: DbInteger,
  key: Buffer,
  createRevision: DbInteger,
  prevRevision: DbInteger,
  version: DbInteger,
  lease: DbInteger,
  value: Buffer,
  deleted: DbInteger | boolean,
];

export interface RawLeaseRow {
  id: DbInteger;
  ttl: DbInteger;
  expires_at: DbInteger;
}

export interface RawMetaRow {
  name: string;
  value: string;
}

/** A meta row read under the fence lock, with the database clock of the same statement. */
export interface RawLockedMetaRow extends RawMetaRow {
  now: DbInteger;
}

/** Almost every row has no lease: they share one bigint instead of holding one each. */
const NO_LEASE = 0n;

export function toLogRow(c: RawLogColumns): LogRow {
  const lease = c[6];
  const deleted = c[8];
  return {
    revision: Number(c[0]),
    sub: Number(c[1]),
    key: c[2],
    createRevision: Number(c[3]),
    prevRevision: Number(c[4]),
    version: Number(c[5]),
    lease: lease === 0 || lease === '0' || lease === NO_LEASE ? NO_LEASE : BigInt(lease),
    value: c[7],
    deleted: typeof deleted === 'boolean' ? deleted : Number(deleted) !== 0,
  };
}

export interface RawKineRow {
  id: DbInteger;
  name: Buffer | string;
  created: DbInteger | null;
  deleted: DbInteger | null;
  create_revision: DbInteger | null;
  prev_revision: DbInteger | null;
  lease: DbInteger | null;
  value: Buffer | null;
}

export function toKineRow(r: RawKineRow): KineRow {
  return {
    id: Number(r.id),
    name: Buffer.isBuffer(r.name) ? r.name : Buffer.from(String(r.name), 'utf8'),
    created: Number(r.created ?? 0) !== 0,
    deleted: Number(r.deleted ?? 0) !== 0,
    createRevision: Number(r.create_revision ?? 0),
    prevRevision: Number(r.prev_revision ?? 0),
    lease: Number(r.lease ?? 0),
    value: r.value ?? Buffer.alloc(0),
  };
}

export function toLeaseRow(r: RawLeaseRow): LeaseRow {
  return { id: BigInt(r.id), ttl: Number(r.ttl), expiresAt: Number(r.expires_at) };
}

export function toMetaValues(rows: readonly RawMetaRow[]): Map<string, string> {
  return new Map(rows.map((r) => [r.name, r.value]));
}

/** No row locked means no row to read the clock from; this machine's clock stands in. */
export function toLockedMeta(rows: readonly RawLockedMetaRow[]): LockedMeta {
  return { values: toMetaValues(rows), nowMs: rows.length > 0 ? Number(rows[0].now) : Date.now() };
}
