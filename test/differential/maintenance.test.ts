// Maintenance, Cluster and Auth (auth disabled). Values that legitimately differ between two servers
// (member/cluster ids, URLs, versions, db sizes, raft indexes) are reduced to the properties clients
// rely on (etcd-clients.md §4 "endpoint status", "member list"; §1.5 the kube version gate).
import { diffSuite, grpcError, put, step, type Case, type Msg } from './harness';

/** "3.5.13" ≥ "3.5.13"; non-semver is false. */
function versionAtLeast(v: string, min: [number, number, number]): boolean {
  const m = /^(\d+)\.(\d+)\.(\d+)/.exec(v);
  if (!m) return false;
  const [a, b, c] = [Number(m[1]), Number(m[2]), Number(m[3])];
  return a !== min[0] ? a > min[0] : b !== min[1] ? b > min[1] : c >= min[2];
}

const cases: Case[] = [
  {
    name: 'Status shape',
    steps: [
      step('put (so the store is not empty)', (s) => put(s, 'a', '1')),
      step(
        'Status',
        async (s) => {
          const r = await s.c.maintenance.Status({});
          // Compared as properties: version strings differ (3.4.23 vs the 3.5.x strata reports), as do
          // db sizes and raft indexes. dbSizeInUse/raftAppliedIndex/isLearner/errors exist in 3.4 and 3.5.
          return {
            header: r.header,
            versionIsSemver: /^\d+\.\d+\.\d+$/.test(r.version),
            leaderIsThisMember: r.leader !== '0' && r.leader === r.header.member_id,
            memberIdSet: r.header.member_id !== '0',
            clusterIdSet: r.header.cluster_id !== '0',
            dbSizePositive: Number(r.dbSize) > 0,
            dbSizeInUsePositive: Number(r.dbSizeInUse) > 0,
            raftTermPositive: Number(r.raftTerm) > 0,
            raftIndexPositive: Number(r.raftIndex) > 0,
            isLearner: r.isLearner,
            errors: r.errors,
          };
        },
        {
          etcd: {
            versionIsSemver: true,
            leaderIsThisMember: true,
            memberIdSet: true,
            dbSizePositive: true,
            isLearner: false,
            errors: [],
          },
        },
      ),
      step(
        'Status version gate (kube RequestWatchProgress needs >= 3.5.13)',
        async (s) => {
          const r = await s.c.maintenance.Status({});
          return { atLeast3_5_13: versionAtLeast(r.version, [3, 5, 13]), below3_6: !versionAtLeast(r.version, [3, 6, 0]) };
        },
        {
          peerOnly: {
            expect: { atLeast3_5_13: true, below3_6: true },
            why: 'strata reports itself as etcd 3.5.x (x >= 13); the reference is 3.4.23',
          },
        },
      ),
    ],
  },
  {
    name: 'Alarm GET',
    steps: [
      // etcd 3.4 answers Alarm with NO header at all (header: null; etcd issue #11581); newer etcd fills
      // one in (maintenance.go: `if resp.Header == nil { resp.Header = &pb.ResponseHeader{} }`), so
      // the header is excluded here.
      step('Alarm GET', (s) => s.c.maintenance.Alarm({ action: 'GET' }), { ignore: ['header'], etcd: { alarms: [] } }),
      step('Alarm GET with memberID 0 and alarm NONE', (s) => s.c.maintenance.Alarm({ action: 'GET', memberID: 0, alarm: 'NONE' }), {
        ignore: ['header'],
      }),
    ],
  },
  {
    name: 'MemberList shape',
    steps: [
      step(
        'MemberList',
        async (s) => {
          const r = await s.c.cluster.MemberList({});
          return {
            header: r.header,
            members: (r.members as Msg[]).map((m) => ({
              nameNonEmpty: typeof m.name === 'string' && m.name.length > 0,
              idIsHeaderMember: m.ID === r.header.member_id,
              clientURLsIncludeServer: (m.clientURLs as string[]).includes(s.url),
              // peerURLs are not compared: etcd always has a peer URL, strata has no peer port.
              isLearner: m.isLearner,
            })),
          };
        },
        {
          // MemberList's header carries cluster/member id and raft term but revision 0 (etcd's
          // ClusterServer.header() never sets it, 3.4 through 3.6).
          etcd: {
            header: { revision: '0' },
            members: [{ nameNonEmpty: true, idIsHeaderMember: true, clientURLsIncludeServer: true, isLearner: false }],
          },
        },
      ),
    ],
  },
  {
    name: 'Auth while auth is disabled',
    steps: [
      step('Authenticate', (s) => s.c.auth.Authenticate({ name: 'root', password: 'x' }), {
        etcd: grpcError('FAILED_PRECONDITION', 'etcdserver: authentication is not enabled'),
      }),
      step('Authenticate with empty name', (s) => s.c.auth.Authenticate({ name: '', password: '' })),
    ],
  },
  {
    name: 'Defragment',
    // Observed: etcd 3.4 answers Defragment with header: null; current etcd still returns a bare
    // DefragmentResponse{} (no header), so the header is compared as is.
    steps: [step('Defragment', (s) => s.c.maintenance.Defragment({}), { etcd: { header: null } })],
  },
];

diffSuite('maintenance', cases);
