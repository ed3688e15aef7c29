/** Lease messages to the store's lease arguments, and its results back. IDs are int64 strings on the wire, bigint in mvcc. */
import type {
  LeaseGrantResponse,
  LeaseKeepAliveResponse,
  LeaseLeasesResponse,
  LeaseRevokeResponse,
  LeaseTimeToLiveResponse,
} from '../../mvcc/types';
import type * as pb from '../messages';
import { big, header, int, type HeaderIdentity } from './header';

export function decodeLeaseGrant(m: pb.LeaseGrantRequest): { id: bigint; ttl: number } {
  return { id: big(m.ID), ttl: int(m.TTL) };
}

/** LeaseRevoke and LeaseKeepAlive name only the lease. */
export function decodeLeaseId(m: pb.LeaseRevokeRequest | pb.LeaseKeepAliveRequest): bigint {
  return big(m.ID);
}

export function decodeLeaseTimeToLive(m: pb.LeaseTimeToLiveRequest): { id: bigint; keys: boolean } {
  return { id: big(m.ID), keys: m.keys };
}

export function encodeLeaseGrant(r: LeaseGrantResponse, id: HeaderIdentity): pb.LeaseGrantResponse {
  return { header: header(id, r.header.revision), ID: r.ID.toString(), TTL: r.TTL, error: '' };
}

export function encodeLeaseRevoke(r: LeaseRevokeResponse, id: HeaderIdentity): pb.LeaseRevokeResponse {
  return { header: header(id, r.header.revision) };
}

export function encodeLeaseKeepAlive(r: LeaseKeepAliveResponse, id: HeaderIdentity): pb.LeaseKeepAliveResponse {
  return { header: header(id, r.header.revision), ID: r.ID.toString(), TTL: r.TTL };
}

export function encodeLeaseTimeToLive(r: LeaseTimeToLiveResponse, id: HeaderIdentity): pb.LeaseTimeToLiveResponse {
  return { header: header(id, r.header.revision), ID: r.ID.toString(), TTL: r.TTL, grantedTTL: r.grantedTTL, keys: r.keys };
}

export function encodeLeaseLeases(r: LeaseLeasesResponse, id: HeaderIdentity): pb.LeaseLeasesResponse {
  return { header: header(id, r.header.revision), leases: r.leases.map((l) => ({ ID: l.toString() })) };
}
