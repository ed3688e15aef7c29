/**
 * The catalogue of the log's meta rows: every name the log reads or writes, and the marks — the
 * rows every instance follows, changed only by a transaction that holds the fence.
 */
import type { MetaValues } from '../dialect/dialect';

export const META = {
  /** The fence counter: the last committed revision. */
  revision: 'revision',
  /** etcd's compact revision: reads below it fail. */
  compactRevision: 'compact_revision',
  /** Revision up to which rows made obsolete by compaction have been deleted. */
  compactDone: 'compact_done',
  /** Rewritten by every batch that changes a lease row (leases change no revision). */
  leaseStamp: 'lease_stamp',
  /** etcd's auth revision: moved by every change of a user or a role, and by AuthDisable. */
  authRevision: 'auth_revision',
  /** '0' while auth is off; else the auth revision it was enabled at (tokens of earlier enables are void). */
  authEnabled: 'auth_enabled',
  /** The key simple tokens are signed with, the same for every instance on the database. */
  authTokenSecret: 'auth_token_secret',
  /** etcd's alarm list (JSON), shared by every instance: changed under its own row lock. */
  alarms: 'alarms',
  /** The solo lease (solo.ts): who may answer linearizable reads from memory alone, and until when. */
  soloLease: 'solo_lease',
  schemaVersion: 'schema_version',
  clusterId: 'cluster_id',
  memberId: 'member_id',
} as const;

/** Each writing process's own row: every batch stamps it, so a lost COMMIT can be read back. */
export function writerStampName(instanceId: string): string {
  return `writer.${instanceId}`;
}

/**
 * The marks, in name order (the order the fence locks them in). The solo lease is one: every commit
 * locks it, and a one-request commit fails its guard when it changed since the writer saw it.
 */
export const MARKS: readonly string[] = [
  META.authEnabled,
  META.authRevision,
  META.compactRevision,
  META.leaseStamp,
  META.revision,
  META.soloLease,
];

/**
 * The marks whose changes other instances are told of (PostgreSQL's NOTIFY): all but the solo
 * lease, which its holder renews every moment and which changes nothing in memory.
 */
export const ANNOUNCED: readonly string[] = MARKS.filter((n) => n !== META.soloLease);

/** etcd's auth revision and whether (since which revision) auth is on; both change only under the fence. */
export interface AuthMarks {
  revision: number;
  /** 0 while auth is off. */
  enabledAt: number;
}

export interface Marks {
  revision: number;
  compactRevision: number;
  /** Changes whenever any lease row changes; an instance that sees a new stamp reloads leases. */
  leaseStamp: string;
  /** An instance whose auth marks differ reloads users and roles. */
  auth: AuthMarks;
  /** The solo lease as the fence row holds it ('' when nobody holds it; solo.ts). */
  solo: string;
}

export const sameAuthMarks = (a: AuthMarks | undefined, b: AuthMarks): boolean =>
  a !== undefined && a.revision === b.revision && a.enabledAt === b.enabledAt;

export function marksFrom(values: MetaValues): Marks {
  const revision = values.get(META.revision);
  if (revision === undefined) throw new Error('meta has no revision row: the schema was not initialised');
  return {
    revision: Number(revision),
    compactRevision: Number(values.get(META.compactRevision) ?? '-1'),
    leaseStamp: values.get(META.leaseStamp) ?? '',
    auth: { revision: Number(values.get(META.authRevision) ?? '1'), enabledAt: Number(values.get(META.authEnabled) ?? '0') },
    solo: values.get(META.soloLease) ?? '',
  };
}
