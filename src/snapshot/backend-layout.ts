/**
 * etcd's backend layout (3.4 and 3.5): the buckets a member's db holds, the names of the meta
 * keys, and how their values are encoded. Bucket names are listed in byte order, as bbolt keeps
 * them.
 */
import { encodeRevisionKey } from './revision-key';

export const BUCKETS = {
  alarm: 'alarm',
  auth: 'auth',
  authRoles: 'authRoles',
  authUsers: 'authUsers',
  cluster: 'cluster',
  key: 'key',
  lease: 'lease',
  members: 'members',
  membersRemoved: 'members_removed',
  meta: 'meta',
} as const;

export const META_KEYS = {
  consistentIndex: 'consistent_index',
  finishedCompact: 'finishedCompactRev',
  scheduledCompact: 'scheduledCompactRev',
  /** Written since 3.5, beside the consistent index. */
  term: 'term',
} as const;

export const CLUSTER_VERSION_KEY = 'clusterVersion';
export const AUTH_REVISION_KEY = 'authRevision';

/** An 8-byte big-endian unsigned integer (consistent index, term, auth revision, lease ids). */
export function u64be(n: number | bigint): Buffer {
  const b = Buffer.alloc(8);
  b.writeBigUInt64BE(BigInt.asUintN(64, BigInt(n)));
  return b;
}

/** A compaction mark, as etcd stores it: the revision key of (rev, 0). */
export const compactMark = (rev: number): Buffer => encodeRevisionKey(rev, 0);

export interface MemberRecord {
  id: bigint;
  name: string;
  peerURLs: readonly string[];
  clientURLs: readonly string[];
}

/** Go's encoding/json escapes these even inside strings; etcd's members bucket holds its output. */
const goJson = (v: unknown): string =>
  JSON.stringify(v).replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);

/**
 * A member as etcd's membership store writes it: key = the id in hex, value = the Member's JSON
 * (the id as a JSON number, which may exceed 2^53, so it is written by hand).
 */
export function memberEntry(m: MemberRecord): [Buffer, Buffer] {
  let json = `{"id":${BigInt.asUintN(64, m.id).toString()},"peerURLs":${goJson(m.peerURLs)}`;
  if (m.name !== '') json += `,"name":${goJson(m.name)}`;
  if (m.clientURLs.length > 0) json += `,"clientURLs":${goJson(m.clientURLs)}`;
  return [Buffer.from(BigInt.asUintN(64, m.id).toString(16)), Buffer.from(`${json}}`)];
}
