/**
 * The log's schema version and initial meta rows, created once and never reset: the fence
 * counter, the compaction point and this store's cluster identity.
 */
import { randomBytes } from 'node:crypto';
import type { Dialect } from '../dialect/dialect';
import { MARKS, META } from './meta';
import type { LogIdentity } from './types';

/** 2: the (key, revision) index is gone (schema 1 had it); the lease_stamp mark exists. */
export const SCHEMA_VERSION = 2;

function randomId(): string {
  return (randomBytes(8).readBigUInt64BE() >> 1n).toString();
}

/** Opens the database, creates what is missing and refuses a schema newer than this build. */
export async function openSchema(dialect: Dialect): Promise<LogIdentity> {
  await dialect.open({ announce: MARKS });
  await dialect.initMeta({
    [META.schemaVersion]: String(SCHEMA_VERSION),
    // An empty etcd answers revision 1; the first write is revision 2.
    [META.revision]: '1',
    // etcd starts below every revision, so Compact(0) on a fresh store succeeds once.
    [META.compactRevision]: '-1',
    [META.leaseStamp]: '0',
    [META.clusterId]: randomId(),
    [META.memberId]: randomId(),
  });
  const version = Number(await dialect.getMeta(META.schemaVersion));
  if (version > SCHEMA_VERSION) {
    throw new Error(`database schema version ${version} is newer than this strata (${SCHEMA_VERSION}); upgrade strata`);
  }
  // dialect.open() has already applied every (idempotent) upgrade statement.
  if (version < SCHEMA_VERSION) await dialect.write((tx) => tx.setMeta({ [META.schemaVersion]: String(SCHEMA_VERSION) }));
  return {
    clusterId: BigInt((await dialect.getMeta(META.clusterId)) ?? '0'),
    memberId: BigInt((await dialect.getMeta(META.memberId)) ?? '0'),
  };
}
