/**
 * The log's meta rows, created once and never reset: the fence counter, the compaction point, the
 * schema version and this store's cluster identity.
 */
import { randomBytes } from 'node:crypto';
import type { Dialect } from '../dialect/dialect';

/** 2: the (key, revision) index is gone (schema 1 had it); the lease_stamp mark exists. */
export const SCHEMA_VERSION = 2;

export interface StoreIdentity {
  clusterId: bigint;
  memberId: bigint;
}

function randomId(): string {
  return (randomBytes(8).readBigUInt64BE() >> 1n).toString();
}

/** Opens the database, creates what is missing and refuses a schema newer than this build. */
export async function openLog(dialect: Dialect): Promise<StoreIdentity> {
  await dialect.open();
  await dialect.initMeta({
    schema_version: String(SCHEMA_VERSION),
    // An empty etcd answers revision 1; the first write is revision 2.
    revision: '1',
    // etcd starts below every revision, so Compact(0) on a fresh store succeeds once.
    compact_revision: '-1',
    lease_stamp: '0',
    cluster_id: randomId(),
    member_id: randomId(),
  });
  const version = Number(await dialect.getMeta('schema_version'));
  if (version > SCHEMA_VERSION) {
    throw new Error(`database schema version ${version} is newer than this strata (${SCHEMA_VERSION}); upgrade strata`);
  }
  // dialect.open() has already applied every (idempotent) upgrade statement.
  if (version < SCHEMA_VERSION) await dialect.write((tx) => tx.setMeta({ schema_version: String(SCHEMA_VERSION) }));
  return {
    clusterId: BigInt((await dialect.getMeta('cluster_id')) ?? '0'),
    memberId: BigInt((await dialect.getMeta('member_id')) ?? '0'),
  };
}
