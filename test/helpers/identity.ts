import { expect } from 'vitest';
import type { EtcdClient, Msg } from './client';

/** Who answers: the fields every response header of one server repeats. */
export interface Identity {
  cluster_id: string;
  member_id: string;
  raft_term: string;
}

/** The identity fields of a decoded response header (null when there is no header). */
export const identityOf = (h: Msg | null | undefined): Identity | null =>
  h ? { cluster_id: h.cluster_id, member_id: h.member_id, raft_term: h.raft_term } : null;

/** The whole header `identity`'s server sends at revision `rev`, as the gRPC client decodes it. */
export const headerAt = (identity: Identity, rev: number): Msg => ({ ...identity, revision: String(rev) });

/**
 * Reads a single-member server's identity from its Status header and checks that the rest of what
 * it says about itself agrees: non-zero ids and term, Status.leader is this member, and MemberList
 * lists exactly this member under the same header.
 */
export async function readIdentity(c: EtcdClient): Promise<{ identity: Identity; version: string }> {
  const st = await c.maintenance.Status({});
  const identity = identityOf(st.header);
  if (!identity) throw new Error(`Status without a header: ${JSON.stringify(st)}`);
  for (const [field, v] of Object.entries(identity)) expect(v, `Status header ${field}`).toMatch(/^[1-9]\d*$/);
  expect(st.leader, 'Status.leader is the member that answers').toBe(identity.member_id);
  const ml = await c.cluster.MemberList({});
  // etcd's cluster service fills no revision in its header (etcdserver/api/v3rpc/member.go).
  expect(ml.header, 'MemberList header').toEqual(headerAt(identity, 0));
  expect(
    (ml.members as Msg[]).map((m) => m.ID),
    'MemberList members',
  ).toEqual([identity.member_id]);
  return { identity, version: String(st.version) };
}
