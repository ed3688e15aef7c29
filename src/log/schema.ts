/**
 * The log's schema version and initial meta rows, created once and never reset: the fence
 * counter, the compaction point, this store's cluster identity and the auth marks.
 */
import { randomBytes } from 'node:crypto';
import type { Dialect } from '../dialect/dialect';
import { ANNOUNCED, META } from './meta';
import type { LogIdentity } from './types';

/**
 * 2: the (key, revision) index is gone (schema 1 had it); the lease_stamp mark exists.
 * 3: the auth tables (auth_user, auth_role) and the auth marks and token secret exist.
 * 4: the solo lease mark exists (a strata that does not lock it would commit inside a holder's lease).
 */
export const SCHEMA_VERSION = 4;

function randomId(): string {
  return (randomBytes(8).readBigUInt64BE() >> 1n).toString();
}

interface OpenedSchema {
  identity: LogIdentity;
  /** What simple tokens are signed with: created once, shared by every instance. */
  authTokenSecret: Buffer;
}

/** Opens the database, creates what is missing and refuses a schema newer than this build. */
export async function openSchema(dialect: Dialect): Promise<OpenedSchema> {
  await dialect.open({ announce: ANNOUNCED });
  await dialect.initMeta({
    [META.schemaVersion]: String(SCHEMA_VERSION),
    // An empty etcd answers revision 1; the first write is revision 2.
    [META.revision]: '1',
    // etcd starts below every revision, so Compact(0) on a fresh store succeeds once.
    [META.compactRevision]: '-1',
    [META.leaseStamp]: '0',
    [META.clusterId]: randomId(),
    [META.memberId]: randomId(),
    // etcd's auth store starts at auth revision 1, auth off.
    [META.authRevision]: '1',
    [META.authEnabled]: '0',
    [META.authTokenSecret]: randomBytes(32).toString('hex'),
    // Nobody holds the solo lease.
    [META.soloLease]: '',
  });
  const version = Number(await dialect.getMeta(META.schemaVersion));
  if (version > SCHEMA_VERSION) {
    throw new Error(`database schema version ${version} is newer than this strata (${SCHEMA_VERSION}); upgrade strata`);
  }
  // dialect.open() has already applied every (idempotent) upgrade statement.
  if (version < SCHEMA_VERSION) await dialect.write((tx) => tx.setMeta({ [META.schemaVersion]: String(SCHEMA_VERSION) }));
  const secret = await dialect.getMeta(META.authTokenSecret);
  if (!secret) throw new Error('meta has no auth token secret: the schema was not initialised');
  return {
    identity: {
      clusterId: BigInt((await dialect.getMeta(META.clusterId)) ?? '0'),
      memberId: BigInt((await dialect.getMeta(META.memberId)) ?? '0'),
    },
    authTokenSecret: Buffer.from(secret, 'hex'),
  };
}
