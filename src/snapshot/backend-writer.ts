/**
 * Writes strata's state at one revision as etcd's backend db (what `etcdctl snapshot save` gets
 * before the trailing SHA-256): the `key` bucket holds exactly the rows etcd would hold after the
 * same history and compaction, `meta` the consistent index, term and compaction marks, `lease`
 * the leases, `members`/`cluster` this member and the cluster version; alarm and auth buckets
 * exist as a fresh etcd creates them (no alarms, auth off at revision 1).
 */
import { writeBolt, type BucketInput, type Entry, type WriteResult } from '../bbolt/writer';
import type { LeaseRow } from '../log/types';
import { clusterVersion } from '../etcd-version';
import {
  AUTH_REVISION_KEY,
  BUCKETS,
  CLUSTER_VERSION_KEY,
  META_KEYS,
  compactMark,
  memberEntry,
  u64be,
  type MemberRecord,
} from './backend-layout';
import { keyBucketEntry } from './key-bucket';
import { encodeLease } from './key-value';
import { etcdRetainedRows, type RowSource } from './retention';

export interface EtcdBackendInput {
  /** The revision the snapshot is taken at; rows above it are not read. */
  revision: number;
  /** The compaction mark; -1 (or 0) when the log was never compacted. */
  compactRevision: number;
  /** The log's rows up to `revision`, read twice (see retention.ts). */
  rows: RowSource;
  leases: Iterable<LeaseRow>;
  member: MemberRecord;
  /** The etcd version strata reports; the cluster version is its major.minor.0. */
  serverVersion: string;
  /** The raft term strata reports. */
  term: number;
  /** etcd's applied raft index; strata's stand-in is the revision (as its Status reports it). */
  consistentIndex?: number;
}

const b = (s: string) => Buffer.from(s);

async function* keyEntries(input: EtcdBackendInput): AsyncGenerator<Entry> {
  for await (const row of etcdRetainedRows(input.rows, input.revision, input.compactRevision)) yield keyBucketEntry(row);
}

function leaseEntries(leases: Iterable<LeaseRow>): Entry[] {
  // etcd keeps no expiry: a restored member grants each lease its full TTL again.
  const sorted = [...leases].sort((x, y) => (BigInt.asUintN(64, x.id) < BigInt.asUintN(64, y.id) ? -1 : 1));
  return sorted.map((l) => [u64be(l.id), encodeLease({ id: l.id, ttl: l.ttl, remainingTtl: 0 })]);
}

function metaEntries(input: EtcdBackendInput): Entry[] {
  const out: Entry[] = [[b(META_KEYS.consistentIndex), u64be(input.consistentIndex ?? input.revision)]];
  if (input.compactRevision > 0) {
    out.push([b(META_KEYS.finishedCompact), compactMark(input.compactRevision)]);
    out.push([b(META_KEYS.scheduledCompact), compactMark(input.compactRevision)]);
  }
  out.push([b(META_KEYS.term), u64be(input.term)]);
  return out;
}

/** The buckets in byte order of their names, as bbolt requires. */
function buckets(input: EtcdBackendInput): BucketInput[] {
  return [
    { name: b(BUCKETS.alarm), entries: [] },
    { name: b(BUCKETS.auth), entries: [[b(AUTH_REVISION_KEY), u64be(1)]] },
    { name: b(BUCKETS.authRoles), entries: [] },
    { name: b(BUCKETS.authUsers), entries: [] },
    { name: b(BUCKETS.cluster), entries: [[b(CLUSTER_VERSION_KEY), b(clusterVersion(input.serverVersion))]] },
    { name: b(BUCKETS.key), entries: keyEntries(input) },
    { name: b(BUCKETS.lease), entries: leaseEntries(input.leases) },
    { name: b(BUCKETS.members), entries: [memberEntry(input.member)] },
    { name: b(BUCKETS.membersRemoved), entries: [] },
    { name: b(BUCKETS.meta), entries: metaEntries(input) },
  ];
}

/** Writes the db file at `path` (replacing it). */
export function writeEtcdBackend(path: string, input: EtcdBackendInput): Promise<WriteResult> {
  return writeBolt(path, buckets(input));
}
