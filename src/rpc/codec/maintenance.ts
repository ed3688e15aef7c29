/** Maintenance and Cluster messages: what one strata member reports about itself. */
import type { HashKVResult, HashResult } from '../../mvcc/backup';
import type { DbSize } from '../../mvcc/types';
import type * as pb from '../messages';
import { header, type HeaderIdentity } from './header';

/** What Status reports, read from the store. */
export interface StatusResult {
  revision: number;
  db: DbSize;
  /** Alarm lines (etcd fills Status.errors with the active alarms). */
  errors: string[];
}

export function encodeStatus(r: StatusResult, id: HeaderIdentity, version: string): pb.StatusResponse {
  return {
    header: header(id, r.revision),
    version,
    dbSize: r.db.size,
    leader: id.member_id,
    // One member: the term never changes and every committed revision is applied.
    raftIndex: r.revision,
    raftTerm: id.raft_term,
    raftAppliedIndex: r.revision,
    errors: r.errors,
    dbSizeInUse: r.db.inUse,
    isLearner: false,
  };
}

/** etcd answers an empty DefragmentResponse, without a header. */
export function encodeDefragment(): pb.DefragmentResponse {
  return {};
}

/** The one member, as MemberList lists it. */
export interface MemberInfo {
  name: string;
  clientUrls: string[];
  peerUrls: string[];
}

export function encodeMemberList(r: MemberInfo, id: HeaderIdentity): pb.MemberListResponse {
  return {
    // etcd's cluster server fills the header but never a revision.
    header: header(id, 0),
    members: [{ ID: id.member_id, name: r.name, peerURLs: r.peerUrls, clientURLs: r.clientUrls, isLearner: false }],
  };
}

export function encodeHashKV(r: HashKVResult, id: HeaderIdentity): pb.HashKVResponse {
  return { header: header(id, r.revision), hash: r.hash, compact_revision: r.compactRevision };
}

export function encodeHash(r: HashResult, id: HeaderIdentity): pb.HashResponse {
  return { header: header(id, r.revision), hash: r.hash };
}
