/** Response headers: the member's identity, fixed for the process, and the revision of each answer. */
import type * as pb from '../messages';

/** The identity fields every top-level header carries (int64 ids as decimal strings). */
export interface HeaderIdentity {
  cluster_id: string;
  member_id: string;
  raft_term: number;
}

export function header(id: HeaderIdentity, revision: number): pb.ResponseHeader {
  return { cluster_id: id.cluster_id, member_id: id.member_id, revision, raft_term: id.raft_term };
}

/** A top-level response carries the full header; responses inside a txn carry only the revision. */
export const headerOf = (id: HeaderIdentity | null, revision: number): pb.ResponseHeader => (id ? header(id, revision) : { revision });

/** int64 fields arrive as decimal strings (longs: String); revisions fit a number (mvcc checks them). */
export const int = (v: string): number => Number(v);
export const big = (v: string): bigint => BigInt(v);
