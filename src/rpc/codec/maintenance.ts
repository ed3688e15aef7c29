/** Maintenance and Cluster messages: what one strata member reports about itself. */
import type { HashKVResult, HashResult } from '../../mvcc/backup';
import type { DbSize, Header } from '../../mvcc/types';
import type * as pb from '../messages';
import { header, type HeaderIdentity } from './header';

export const ALARM_GET = 0;
export const ALARM_DEACTIVATE = 2;

export function decodeAlarm(m: pb.AlarmRequest): { action: number } {
  return { action: m.action };
}

/** What Status reports, read from the store. */
export interface StatusResult {
  revision: number;
  db: DbSize;
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
    errors: [],
    dbSizeInUse: r.db.inUse,
    isLearner: false,
  };
}

/** strata raises no alarms (there is no space quota), so the list is always empty. */
export function encodeAlarm(r: Header, id: HeaderIdentity): pb.AlarmResponse {
  return { header: header(id, r.revision), alarms: [] };
}

/** etcd answers an empty DefragmentResponse, without a header. */
export function encodeDefragment(): pb.DefragmentResponse {
  return {};
}

/** The one member, as MemberList lists it. */
export interface MemberInfo {
  name: string;
  clientUrls: string[];
}

export function encodeMemberList(r: MemberInfo, id: HeaderIdentity): pb.MemberListResponse {
  return {
    // etcd's cluster server fills the header but never a revision.
    header: header(id, 0),
    members: [{ ID: id.member_id, name: r.name, peerURLs: [], clientURLs: r.clientUrls, isLearner: false }],
  };
}

export function encodeHashKV(r: HashKVResult, id: HeaderIdentity): pb.HashKVResponse {
  return { header: header(id, r.revision), hash: r.hash, compact_revision: r.compactRevision };
}

export function encodeHash(r: HashResult, id: HeaderIdentity): pb.HashResponse {
  return { header: header(id, r.revision), hash: r.hash };
}
