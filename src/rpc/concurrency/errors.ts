/**
 * How etcd's v3lock and v3election servers fail: they run their steps through etcd's own client,
 * which turns a gRPC status into an error that is no status any more, so grpc-go answers the
 * caller with code Unknown and the original text (e.g. `etcdserver: requested lease not found`).
 */
import { Code, EtcdError } from '../../errors';

export async function asUnknown<T>(p: Promise<T>): Promise<T> {
  try {
    return await p;
  } catch (e) {
    if (e instanceof EtcdError && e.code !== Code.Unknown && e.code !== Code.Canceled) throw new EtcdError(Code.Unknown, e.message);
    throw e;
  }
}

/** v3election.ErrMissingLeaderKey. */
export const missingLeaderKey = (): EtcdError => new EtcdError(Code.Unknown, '"leader" field must be provided');
export const notLeader = (): EtcdError => new EtcdError(Code.Unknown, 'election: not leader');
export const noLeader = (): EtcdError => new EtcdError(Code.Unknown, 'election: no leader');
