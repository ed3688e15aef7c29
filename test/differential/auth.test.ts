// Authentication and roles, differential: users, roles, grants, tokens and every kind of request
// allowed and denied, against Debian's etcd 3.4 with auth enabled on both sides. Auth is global, so
// every case has its own pair of servers. Tokens differ by nature and are compared only by kind.
//
// strata follows etcd 3.5.33, whose checks are stricter than 3.4's in a few places (nested txn
// ops, a txn put's lease and prev_kv, from-key watches, Compact, Alarm, MemberList, Status, the
// lease calls); those steps are `peerOnly`, each with etcd 3.5.33's answer and why 3.4 differs.
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { get as httpGet, post } from '../gateway/http';
import { sleep } from '../helpers/ports';
import { b, diffSuite, grpcError, step, type Case, type Msg, type Side, type Step } from './harness';

const USER_EMPTY = grpcError('INVALID_ARGUMENT', 'etcdserver: user name is empty');
const DENIED = grpcError('PERMISSION_DENIED', 'etcdserver: permission denied');
const BAD_TOKEN = grpcError('UNAUTHENTICATED', 'etcdserver: invalid auth token');
const AUTH_FAILED = grpcError('INVALID_ARGUMENT', 'etcdserver: authentication failed, invalid user ID or password');
const NOT_ENABLED = grpcError('FAILED_PRECONDITION', 'etcdserver: authentication is not enabled');
const USER_NOT_FOUND = grpcError('FAILED_PRECONDITION', 'etcdserver: user name not found');
const ROLE_NOT_FOUND = grpcError('FAILED_PRECONDITION', 'etcdserver: role name not found');
const INVALID_MGMT = grpcError('INVALID_ARGUMENT', 'etcdserver: invalid auth management');
const DENIED_REASON = 'rpc error: code = PermissionDenied desc = etcdserver: permission denied';
const STRICTER = 'etcd 3.5.33 checks this; Debian’s 3.4 lets it through';

/** An RSA key pair in PEM files, for --auth-token jwt on both servers. */
function jwtKeys(): { pub: string; priv: string } {
  const dir = mkdtempSync(path.join(tmpdir(), 'strata-jwt-'));
  const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const pub = path.join(dir, 'jwt.pub');
  const priv = path.join(dir, 'jwt.key');
  writeFileSync(pub, publicKey.export({ type: 'spki', format: 'pem' }));
  writeFileSync(priv, privateKey.export({ type: 'pkcs1', format: 'pem' }));
  return { pub, priv };
}
const JWT = jwtKeys();
const OLD_REVISION = grpcError('INVALID_ARGUMENT', 'etcdserver: revision of auth store is old');

/** gRPC metadata carrying the token saved under `name`. */
function as(s: Side, name: string): grpc.Metadata {
  const md = new grpc.Metadata();
  md.set('token', s.get<string>(name));
  return md;
}

/** Authenticate and keep the token under `name`; the token itself is shown only as present. */
function login(user: string, password: string, name = user): Step {
  return step(
    `Authenticate ${user}`,
    async (s) => {
      const r = await s.c.auth.Authenticate({ name: user, password });
      s.set(name, r.token);
      return { ...r, token: typeof r.token === 'string' && r.token.length > 0 ? '<token>' : r.token };
    },
    { etcd: { token: '<token>' } },
  );
}

/** A permission for a role: `prefix` true grants [key, prefix end). */
const perm = (s: Side, type: 'READ' | 'WRITE' | 'READWRITE', key: string, prefix = false): Msg => ({
  permType: type,
  key: s.k(key),
  range_end: prefix ? s.end(key) : b(''),
});

/** Root with the root role, user alice (roles rw, ro, wo) and bob (no role); auth enabled. */
const setup: Step[] = [
  step('UserAdd root', (s) => s.c.auth.UserAdd({ name: 'root', password: 'rootpw' })),
  step('UserGrantRole root root (the root role needs no RoleAdd)', (s) => s.c.auth.UserGrantRole({ user: 'root', role: 'root' })),
  step('UserAdd alice', (s) => s.c.auth.UserAdd({ name: 'alice', password: 'alicepw' })),
  step('UserAdd bob', (s) => s.c.auth.UserAdd({ name: 'bob', password: 'bobpw' })),
  step('RoleAdd rw, ro, wo', async (s) =>
    Promise.all(['rw', 'ro', 'wo'].map((name) => s.c.auth.RoleAdd({ name }))).then((rs) => rs.length),
  ),
  step('grant rw: READWRITE on the prefix rw/', (s) =>
    s.c.auth.RoleGrantPermission({ name: 'rw', perm: perm(s, 'READWRITE', 'rw/', true) }),
  ),
  step('grant ro: READ on the key ro', (s) => s.c.auth.RoleGrantPermission({ name: 'ro', perm: perm(s, 'READ', 'ro') })),
  step('grant wo: WRITE on the prefix wo/', (s) => s.c.auth.RoleGrantPermission({ name: 'wo', perm: perm(s, 'WRITE', 'wo/', true) })),
  step('UserGrantRole alice rw, ro, wo', async (s) => {
    for (const role of ['rw', 'ro', 'wo']) await s.c.auth.UserGrantRole({ user: 'alice', role });
    return s.c.auth.UserGet({ name: 'alice' });
  }),
  step('AuthEnable', (s) => s.c.auth.AuthEnable({})),
  login('root', 'rootpw'),
  login('alice', 'alicepw'),
  login('bob', 'bobpw'),
];

const cases: Case[] = [
  {
    name: 'management before auth is enabled: etcd’s errors',
    fresh: true,
    steps: [
      step('Authenticate while auth is off', (s) => s.c.auth.Authenticate({ name: 'root', password: 'x' }), { etcd: NOT_ENABLED }),
      step('AuthEnable without a root user', (s) => s.c.auth.AuthEnable({}), {
        etcd: grpcError('FAILED_PRECONDITION', 'etcdserver: root user does not exist'),
      }),
      step('UserAdd with an empty name', (s) => s.c.auth.UserAdd({ name: '', password: 'x' }), { etcd: USER_EMPTY }),
      step('UserAdd root', (s) => s.c.auth.UserAdd({ name: 'root', password: 'rootpw' })),
      step('UserAdd root again', (s) => s.c.auth.UserAdd({ name: 'root', password: 'x' }), {
        etcd: grpcError('FAILED_PRECONDITION', 'etcdserver: user name already exists'),
      }),
      step('AuthEnable while root lacks the root role', (s) => s.c.auth.AuthEnable({}), {
        etcd: grpcError('FAILED_PRECONDITION', 'etcdserver: root user does not have root role'),
      }),
      step('UserAdd a user without a password', (s) => s.c.auth.UserAdd({ name: 'svc', options: { no_password: true } })),
      step('UserAdd ROOT (names are case-sensitive)', (s) => s.c.auth.UserAdd({ name: 'ROOT', password: 'x' })),
      step('UserGet an unknown user', (s) => s.c.auth.UserGet({ name: 'nobody' }), { etcd: USER_NOT_FOUND }),
      step('UserDelete an unknown user', (s) => s.c.auth.UserDelete({ name: 'nobody' }), { etcd: USER_NOT_FOUND }),
      step('UserChangePassword of an unknown user', (s) => s.c.auth.UserChangePassword({ name: 'nobody', password: 'x' }), {
        etcd: USER_NOT_FOUND,
      }),
      step('UserGrantRole an unknown role', (s) => s.c.auth.UserGrantRole({ user: 'root', role: 'nope' }), { etcd: ROLE_NOT_FOUND }),
      step('UserGrantRole to an unknown user', (s) => s.c.auth.UserGrantRole({ user: 'nobody', role: 'root' }), {
        etcd: USER_NOT_FOUND,
      }),
      step('UserRevokeRole a role not granted', (s) => s.c.auth.UserRevokeRole({ name: 'root', role: 'root' }), {
        etcd: grpcError('FAILED_PRECONDITION', 'etcdserver: role is not granted to the user'),
      }),
      step('RoleAdd with an empty name', (s) => s.c.auth.RoleAdd({ name: '' }), {
        etcd: grpcError('INVALID_ARGUMENT', 'etcdserver: role name is empty'),
      }),
      step('RoleAdd r', (s) => s.c.auth.RoleAdd({ name: 'r' })),
      step('RoleAdd r again', (s) => s.c.auth.RoleAdd({ name: 'r' }), {
        etcd: grpcError('FAILED_PRECONDITION', 'etcdserver: role name already exists'),
      }),
      step('RoleGet an unknown role', (s) => s.c.auth.RoleGet({ role: 'nope' }), { etcd: ROLE_NOT_FOUND }),
      step('RoleGet root before RoleAdd root', (s) => s.c.auth.RoleGet({ role: 'root' }), { etcd: ROLE_NOT_FOUND }),
      step('RoleGrantPermission without a permission', (s) => s.c.auth.RoleGrantPermission({ name: 'r' }), {
        peerOnly: {
          expect: grpcError('INVALID_ARGUMENT', 'etcdserver: permission not given'),
          why: 'etcd 3.4 crashes on it (a nil pointer); 3.5 answers "permission not given"',
        },
      }),
      step('RoleGrantPermission with an empty key', (s) => s.c.auth.RoleGrantPermission({ name: 'r', perm: { key: b('') } }), {
        peerOnly: { expect: INVALID_MGMT, why: `3.5 checks the permission's range (isValidPermissionRange); 3.4 stores it` },
      }),
      step(
        'RoleGrantPermission with range_end before the key',
        (s) => s.c.auth.RoleGrantPermission({ name: 'r', perm: { key: s.k('b'), range_end: s.k('a') } }),
        { peerOnly: { expect: INVALID_MGMT, why: `3.5 checks the permission's range (isValidPermissionRange); 3.4 stores it` } },
      ),
      step('RoleGrantPermission to an unknown role', (s) => s.c.auth.RoleGrantPermission({ name: 'nope', perm: perm(s, 'READ', 'a') }), {
        etcd: ROLE_NOT_FOUND,
      }),
      step('grant READ a, READWRITE prefix p/, WRITE from-key z', async (s) => {
        await s.c.auth.RoleGrantPermission({ name: 'r', perm: perm(s, 'READ', 'a') });
        await s.c.auth.RoleGrantPermission({ name: 'r', perm: perm(s, 'READWRITE', 'p/', true) });
        await s.c.auth.RoleGrantPermission({ name: 'r', perm: { permType: 'WRITE', key: s.k('z'), range_end: b('\0') } });
        return s.c.auth.RoleGet({ role: 'r' });
      }),
      step('grant a again as WRITE: the type changes in place', async (s) => {
        await s.c.auth.RoleGrantPermission({ name: 'r', perm: perm(s, 'WRITE', 'a') });
        return s.c.auth.RoleGet({ role: 'r' });
      }),
      step('RoleRevokePermission not granted', (s) => s.c.auth.RoleRevokePermission({ role: 'r', key: s.k('q') }), {
        etcd: grpcError('FAILED_PRECONDITION', 'etcdserver: permission is not granted to the role'),
      }),
      step('RoleRevokePermission a', async (s) => {
        await s.c.auth.RoleRevokePermission({ role: 'r', key: s.k('a') });
        return s.c.auth.RoleGet({ role: 'r' });
      }),
      step('UserGrantRole r to ROOT twice (the second is a no-op)', async (s) => {
        await s.c.auth.UserGrantRole({ user: 'ROOT', role: 'r' });
        await s.c.auth.UserGrantRole({ user: 'ROOT', role: 'r' });
        return s.c.auth.UserGet({ name: 'ROOT' });
      }),
      step('UserList and RoleList, in byte order', async (s) => [await s.c.auth.UserList({}), await s.c.auth.RoleList({})]),
      step('RoleDelete r takes it from its users', async (s) => {
        await s.c.auth.RoleDelete({ role: 'r' });
        return s.c.auth.UserGet({ name: 'ROOT' });
      }),
      step('RoleDelete r again', (s) => s.c.auth.RoleDelete({ role: 'r' }), { etcd: ROLE_NOT_FOUND }),
      step('UserDelete ROOT', (s) => s.c.auth.UserDelete({ name: 'ROOT' })),
      step('AuthDisable while off is a no-op', (s) => s.c.auth.AuthDisable({})),
      step('UserGrantRole root root, then AuthEnable', async (s) => {
        await s.c.auth.UserGrantRole({ user: 'root', role: 'root' });
        return s.c.auth.AuthEnable({});
      }),
      step('AuthEnable again, without a token', (s) => s.c.auth.AuthEnable({}), { etcd: USER_EMPTY }),
      step('Authenticate the user without a password', (s) => s.c.auth.Authenticate({ name: 'svc', password: '' })),
      step('Authenticate with an unknown user', (s) => s.c.auth.Authenticate({ name: 'nobody', password: 'x' }), { etcd: AUTH_FAILED }),
      step('Authenticate with an empty name', (s) => s.c.auth.Authenticate({ name: '', password: '' }), { etcd: AUTH_FAILED }),
      step('Authenticate with a wrong password', (s) => s.c.auth.Authenticate({ name: 'root', password: 'wrong' }), {
        etcd: AUTH_FAILED,
      }),
      step('Authenticate with a 100 KiB password', (s) => s.c.auth.Authenticate({ name: 'root', password: 'x'.repeat(100 << 10) }), {
        etcd: AUTH_FAILED,
      }),
      login('root', 'rootpw'),
      step('UserAdd with a 73-byte password', (s) => s.c.auth.UserAdd({ name: 'long', password: 'p'.repeat(73) }, as(s, 'root')), {
        peerOnly: {
          expect: grpcError('UNKNOWN', 'bcrypt: password length exceeds 72 bytes'),
          why: "etcd 3.5's bcrypt (x/crypto ≥ 0.8) refuses it; Debian's 3.4 build cuts it at 72 bytes",
        },
      }),
      step('UserAdd with a 72-byte password', (s) => s.c.auth.UserAdd({ name: 'long72', password: 'p'.repeat(72) }, as(s, 'root'))),
      login('long72', 'p'.repeat(72)),
    ],
  },
  {
    name: 'requests without a token, with a bad token, and by users of each role',
    fresh: true,
    timeoutMs: 60_000,
    steps: [
      ...setup,
      step('Range without a token', (s) => s.c.kv.Range({ key: s.k('rw/a') }), { etcd: USER_EMPTY }),
      step('Put without a token', (s) => s.c.kv.Put({ key: s.k('rw/a'), value: b('v') }), { etcd: USER_EMPTY }),
      step('DeleteRange without a token', (s) => s.c.kv.DeleteRange({ key: s.k('rw/a') }), { etcd: USER_EMPTY }),
      step('Txn without a token', (s) => s.c.kv.Txn({ success: [{ request_range: { key: s.k('rw/a') } }] }), { etcd: USER_EMPTY }),
      step('UserList without a token', (s) => s.c.auth.UserList({}), { etcd: USER_EMPTY }),
      step(
        'Range with a garbage token',
        (s) => {
          const md = new grpc.Metadata();
          md.set('token', 'garbage.1');
          return s.c.kv.Range({ key: s.k('rw/a') }, md);
        },
        { etcd: BAD_TOKEN },
      ),
      step(
        'Put with a garbage token',
        (s) => {
          const md = new grpc.Metadata();
          md.set('token', 'x'.repeat(4000));
          return s.c.kv.Put({ key: s.k('rw/a'), value: b('v') }, md);
        },
        { etcd: BAD_TOKEN },
      ),
      step('alice: Put rw/a', (s) => s.c.kv.Put({ key: s.k('rw/a'), value: b('1') }, as(s, 'alice'))),
      step('alice: Put outside her roles', (s) => s.c.kv.Put({ key: s.k('x'), value: b('1') }, as(s, 'alice')), { etcd: DENIED }),
      step('alice: Put the read-only key', (s) => s.c.kv.Put({ key: s.k('ro'), value: b('1') }, as(s, 'alice')), { etcd: DENIED }),
      step('alice: Put wo/a (write-only)', (s) => s.c.kv.Put({ key: s.k('wo/a'), value: b('1') }, as(s, 'alice'))),
      step(
        'alice: Put wo/a with prev_kv needs read',
        (s) => s.c.kv.Put({ key: s.k('wo/a'), value: b('2'), prev_kv: true }, as(s, 'alice')),
        {
          etcd: DENIED,
        },
      ),
      step('root: Put ro and x', async (s) => {
        await s.c.kv.Put({ key: s.k('ro'), value: b('r') }, as(s, 'root'));
        return s.c.kv.Put({ key: s.k('x'), value: b('x') }, as(s, 'root'));
      }),
      step('alice: Range rw/a', (s) => s.c.kv.Range({ key: s.k('rw/a') }, as(s, 'alice'))),
      step('alice: Range ro', (s) => s.c.kv.Range({ key: s.k('ro') }, as(s, 'alice'))),
      step('alice: Range ro serializable', (s) => s.c.kv.Range({ key: s.k('ro'), serializable: true }, as(s, 'alice'))),
      step('alice: Range wo/a (write-only)', (s) => s.c.kv.Range({ key: s.k('wo/a') }, as(s, 'alice')), { etcd: DENIED }),
      step('alice: Range the prefix rw/', (s) => s.c.kv.Range({ key: s.k('rw/'), range_end: s.end('rw/') }, as(s, 'alice'))),
      step('alice: Range part of rw/', (s) => s.c.kv.Range({ key: s.k('rw/a'), range_end: s.k('rw/b') }, as(s, 'alice'))),
      step('alice: Range the whole case prefix', (s) => s.c.kv.Range({ key: s.k(), range_end: s.end() }, as(s, 'alice')), {
        etcd: DENIED,
      }),
      step('alice: Range from rw/ to the end', (s) => s.c.kv.Range({ key: s.k('rw/'), range_end: b('\0') }, as(s, 'alice')), {
        etcd: DENIED,
      }),
      step('alice: Range x', (s) => s.c.kv.Range({ key: s.k('x') }, as(s, 'alice')), { etcd: DENIED }),
      step('bob: Range rw/a', (s) => s.c.kv.Range({ key: s.k('rw/a') }, as(s, 'bob')), { etcd: DENIED }),
      step('alice: DeleteRange wo/a with prev_kv', (s) => s.c.kv.DeleteRange({ key: s.k('wo/a'), prev_kv: true }, as(s, 'alice')), {
        etcd: DENIED,
      }),
      step('alice: DeleteRange wo/a', (s) => s.c.kv.DeleteRange({ key: s.k('wo/a') }, as(s, 'alice'))),
      step('alice: DeleteRange ro', (s) => s.c.kv.DeleteRange({ key: s.k('ro') }, as(s, 'alice')), { etcd: DENIED }),
      step('alice: Txn compare ro, put rw/b, range rw/a', (s) =>
        s.c.kv.Txn(
          {
            compare: [{ key: s.k('ro'), target: 'VERSION', result: 'GREATER', version: 0 }],
            success: [{ request_put: { key: s.k('rw/b'), value: b('t') } }, { request_range: { key: s.k('rw/a') } }],
          },
          as(s, 'alice'),
        ),
      ),
      step(
        'alice: Txn compare on x',
        (s) => s.c.kv.Txn({ compare: [{ key: s.k('x'), target: 'VERSION', result: 'GREATER', version: 0 }], success: [] }, as(s, 'alice')),
        { etcd: DENIED },
      ),
      step(
        'alice: Txn with a denied op in the branch not taken',
        (s) =>
          s.c.kv.Txn(
            {
              compare: [{ key: s.k('rw/a'), target: 'VERSION', result: 'GREATER', version: 0 }],
              success: [{ request_put: { key: s.k('rw/c'), value: b('t') } }],
              failure: [{ request_put: { key: s.k('x'), value: b('t') } }],
            },
            as(s, 'alice'),
          ),
        { etcd: DENIED },
      ),
      step('alice: read-only Txn ranging over x', (s) => s.c.kv.Txn({ success: [{ request_range: { key: s.k('x') } }] }, as(s, 'alice')), {
        etcd: DENIED,
      }),
      step(
        'alice: Txn delete wo/ with prev_kv',
        (s) =>
          s.c.kv.Txn({ success: [{ request_delete_range: { key: s.k('wo/'), range_end: s.end('wo/'), prev_kv: true } }] }, as(s, 'alice')),
        { etcd: DENIED },
      ),
      step(
        'alice: Txn with a nested put outside her roles',
        (s) => s.c.kv.Txn({ success: [{ request_txn: { success: [{ request_put: { key: s.k('x'), value: b('n') } }] } }] }, as(s, 'alice')),
        { peerOnly: { expect: DENIED, why: `nested txn ops: ${STRICTER}` } },
      ),
      step(
        'alice: Txn put with prev_kv on wo/a',
        (s) => s.c.kv.Txn({ success: [{ request_put: { key: s.k('wo/a'), value: b('n'), prev_kv: true } }] }, as(s, 'alice')),
        { peerOnly: { expect: DENIED, why: `a txn put's prev_kv: ${STRICTER}` } },
      ),
      step('alice: Compact', (s) => s.c.kv.Compact({ revision: 2 }, as(s, 'alice')), {
        peerOnly: { expect: DENIED, why: `Compact is an admin request: ${STRICTER}` },
      }),
      step('alice: Defragment (etcd leaves this check’s error unmapped)', (s) => s.c.maintenance.Defragment({}, as(s, 'alice')), {
        etcd: grpcError('UNKNOWN', 'auth: permission denied'),
      }),
      step('Defragment without a token', (s) => s.c.maintenance.Defragment({}), {
        etcd: grpcError('UNKNOWN', 'auth: user name is empty'),
      }),
      step('root: Defragment', (s) => s.c.maintenance.Defragment({}, as(s, 'root'))),
      step('alice: HashKV (unmapped, as Defragment)', (s) => s.c.maintenance.HashKV({ revision: 0 }, as(s, 'alice')), {
        etcd: grpcError('UNKNOWN', 'auth: permission denied'),
      }),
      step('alice: Hash', (s) => s.c.maintenance.Hash({}, as(s, 'alice')), {
        etcd: grpcError('UNKNOWN', 'auth: permission denied'),
      }),
      step('alice: Status', (s) => s.c.maintenance.Status({}, as(s, 'alice')), {
        ignore: ['dbSize', 'dbSizeInUse', 'raftIndex', 'raftAppliedIndex', 'version', 'leader', 'raftTerm'],
      }),
      step('Status without a token', (s) => s.c.maintenance.Status({}), {
        peerOnly: { expect: USER_EMPTY, why: `Status needs a user: ${STRICTER}` },
      }),
      step('MemberList without a token', (s) => s.c.cluster.MemberList({}), {
        peerOnly: { expect: USER_EMPTY, why: `MemberList needs a user: ${STRICTER}` },
      }),
      // etcd 3.4 answers Alarm without a header (etcd issue #11581); see maintenance.test.ts.
      step('alice: Alarm GET', (s) => s.c.maintenance.Alarm({ action: 'GET' }, as(s, 'alice')), { ignore: ['header'] }),
      step('alice: Alarm DEACTIVATE', (s) => s.c.maintenance.Alarm({ action: 'DEACTIVATE' }, as(s, 'alice')), {
        peerOnly: { expect: DENIED, why: `disarming is an admin request: ${STRICTER}` },
      }),
      step('alice: UserList', (s) => s.c.auth.UserList({}, as(s, 'alice')), { etcd: DENIED }),
      step('alice: RoleList', (s) => s.c.auth.RoleList({}, as(s, 'alice')), { etcd: DENIED }),
      step('alice: UserGet herself', (s) => s.c.auth.UserGet({ name: 'alice' }, as(s, 'alice'))),
      step('alice: UserGet bob', (s) => s.c.auth.UserGet({ name: 'bob' }, as(s, 'alice')), { etcd: DENIED }),
      step('alice: RoleGet a role she has', (s) => s.c.auth.RoleGet({ role: 'ro' }, as(s, 'alice'))),
      step('bob: RoleGet ro', (s) => s.c.auth.RoleGet({ role: 'ro' }, as(s, 'bob')), { etcd: DENIED }),
      step('alice: UserAdd', (s) => s.c.auth.UserAdd({ name: 'eve', password: 'x' }, as(s, 'alice')), { etcd: DENIED }),
      step('alice: AuthDisable', (s) => s.c.auth.AuthDisable({}, as(s, 'alice')), { etcd: DENIED }),
      step('alice: AuthEnable (already on)', (s) => s.c.auth.AuthEnable({}, as(s, 'alice')), { etcd: DENIED }),
      step('root: UserDelete root while enabled', (s) => s.c.auth.UserDelete({ name: 'root' }, as(s, 'root')), { etcd: INVALID_MGMT }),
      step('root: UserRevokeRole root root while enabled', (s) => s.c.auth.UserRevokeRole({ name: 'root', role: 'root' }, as(s, 'root')), {
        etcd: INVALID_MGMT,
      }),
      step(
        'root: RoleAdd root, then RoleDelete root while enabled',
        async (s) => {
          await s.c.auth.RoleAdd({ name: 'root' }, as(s, 'root'));
          return s.c.auth.RoleDelete({ role: 'root' }, as(s, 'root'));
        },
        { etcd: INVALID_MGMT },
      ),
      step('root: UserList, RoleList', async (s) => [
        await s.c.auth.UserList({}, as(s, 'root')),
        await s.c.auth.RoleList({}, as(s, 'root')),
      ]),
      step('root: Range everything under the case', (s) => s.c.kv.Range({ key: s.k(), range_end: s.end() }, as(s, 'root'))),
    ],
  },
  {
    name: 'changes take effect at once: revoked roles, changed passwords, deleted users, disable',
    fresh: true,
    timeoutMs: 60_000,
    steps: [
      ...setup,
      step('alice: Put rw/a', (s) => s.c.kv.Put({ key: s.k('rw/a'), value: b('1') }, as(s, 'alice'))),
      step('root: UserRevokeRole alice rw', (s) => s.c.auth.UserRevokeRole({ name: 'alice', role: 'rw' }, as(s, 'root'))),
      step('alice, same token: Put rw/a', (s) => s.c.kv.Put({ key: s.k('rw/a'), value: b('2') }, as(s, 'alice')), { etcd: DENIED }),
      step('root: RoleRevokePermission ro', (s) => s.c.auth.RoleRevokePermission({ role: 'ro', key: s.k('ro') }, as(s, 'root'))),
      step('alice: Range ro', (s) => s.c.kv.Range({ key: s.k('ro') }, as(s, 'alice')), { etcd: DENIED }),
      step('root: grant ro READ on ro again', (s) =>
        s.c.auth.RoleGrantPermission({ name: 'ro', perm: perm(s, 'READ', 'ro') }, as(s, 'root')),
      ),
      step('alice: Range ro again', (s) => s.c.kv.Range({ key: s.k('ro') }, as(s, 'alice'))),
      step('root: UserChangePassword alice', (s) => s.c.auth.UserChangePassword({ name: 'alice', password: 'new' }, as(s, 'root'))),
      step('alice, old token', (s) => s.c.kv.Range({ key: s.k('ro') }, as(s, 'alice')), { etcd: BAD_TOKEN }),
      step('Authenticate alice with the old password', (s) => s.c.auth.Authenticate({ name: 'alice', password: 'alicepw' }), {
        etcd: AUTH_FAILED,
      }),
      login('alice', 'new'),
      step('alice, new token: Range ro', (s) => s.c.kv.Range({ key: s.k('ro') }, as(s, 'alice'))),
      step('root: UserDelete bob', (s) => s.c.auth.UserDelete({ name: 'bob' }, as(s, 'root'))),
      step('bob, his token', (s) => s.c.kv.Range({ key: s.k('ro') }, as(s, 'bob')), { etcd: BAD_TOKEN }),
      step('root: UserAdd bob again, same password', (s) => s.c.auth.UserAdd({ name: 'bob', password: 'bobpw' }, as(s, 'root'))),
      step('bob, the token of the deleted bob', (s) => s.c.kv.Range({ key: s.k('ro') }, as(s, 'bob')), { etcd: BAD_TOKEN }),
      step('root: AuthDisable', (s) => s.c.auth.AuthDisable({}, as(s, 'root'))),
      step('Put without a token once auth is off', (s) => s.c.kv.Put({ key: s.k('x'), value: b('free') })),
      step(
        'a garbage token is ignored while auth is off',
        (s) => {
          const md = new grpc.Metadata();
          md.set('token', 'garbage');
          return s.c.kv.Range({ key: s.k('x'), count_only: true }, md);
        },
        {
          peerOnly: {
            expect: {
              header: { cluster_id: '<cluster_id>', member_id: '<member_id>', raft_term: '<raft_term>', revision: '3' },
              kvs: [],
              more: false,
              count: '1',
            },
            why: 'etcd 3.5 reads no token while auth is off; 3.4 answers "invalid auth token"',
          },
        },
      ),
      step('Authenticate while off', (s) => s.c.auth.Authenticate({ name: 'root', password: 'rootpw' }), { etcd: NOT_ENABLED }),
      step('AuthEnable again (no token needed while off)', (s) => s.c.auth.AuthEnable({})),
      step('root, token from before the disable', (s) => s.c.kv.Range({ key: s.k('x') }, as(s, 'root')), { etcd: BAD_TOKEN }),
      login('root', 'rootpw'),
      step('root, new token', (s) => s.c.kv.Range({ key: s.k('x') }, as(s, 'root'))),
    ],
  },
  {
    name: 'watches and leases with auth',
    fresh: true,
    timeoutMs: 60_000,
    steps: [
      ...setup,
      step(
        'alice: watch rw/ (allowed) and x (denied) on one stream',
        async (s) => {
          const w = s.watch('a', as(s, 'alice'));
          w.send({ create_request: { key: s.k('rw/'), range_end: s.end('rw/') } });
          w.send({ create_request: { key: s.k('x') } });
          return w.next(2);
        },
        {
          etcd: [
            { created: true, watch_id: '0' },
            { created: true, canceled: true, watch_id: '-1', cancel_reason: DENIED_REASON },
          ],
        },
      ),
      step('alice: a put on rw/a reaches her watch', async (s) => {
        await s.c.kv.Put({ key: s.k('rw/a'), value: b('w') }, as(s, 'alice'));
        return s.watch('a').next(1);
      }),
      step('a watch without a token', async (s) => {
        const w = s.watch('anon');
        w.send({ create_request: { key: s.k('rw/') } });
        return w.next(1);
      }),
      step('a watch with a garbage token', async (s) => {
        const md = new grpc.Metadata();
        md.set('token', 'garbage');
        const w = s.watch('bad', md);
        w.send({ create_request: { key: s.k('rw/') } });
        return w.next(1);
      }),
      step(
        'alice: watch from rw/ to the end of the key space',
        async (s) => {
          const w = s.watch('from', as(s, 'alice'));
          w.send({ create_request: { key: s.k('rw/'), range_end: b('\0') } });
          const out = (await w.next(1)).map((r) => ({
            created: r.created,
            canceled: r.canceled,
            watch_id: r.watch_id,
            reason: r.cancel_reason,
          }));
          // Sent to one side only: not part of the end-of-case comparison.
          w.close();
          s.watches.delete('from');
          return out;
        },
        {
          peerOnly: {
            expect: [{ created: true, canceled: true, watch_id: '-1', reason: DENIED_REASON }],
            why: 'etcd 3.4 (and 3.5 before 3.5.33) checks a from-key watch on its first key only',
          },
        },
      ),
      step('root: LeaseGrant 7 and put x on it', async (s) => {
        const g = await s.c.lease.LeaseGrant({ ID: s.alias('seven', '7007'), TTL: 60 }, as(s, 'root'));
        await s.c.kv.Put({ key: s.k('x'), value: b('l'), lease: '7007' }, as(s, 'root'));
        return g;
      }),
      step('alice: LeaseRevoke a lease holding x', (s) => s.c.lease.LeaseRevoke({ ID: '7007' }, as(s, 'alice')), { etcd: DENIED }),
      step('alice: Put rw/l on a lease holding x', (s) => s.c.kv.Put({ key: s.k('rw/l'), value: b('l'), lease: '7007' }, as(s, 'alice')), {
        etcd: DENIED,
      }),
      step('alice: LeaseTimeToLive without keys', (s) => s.c.lease.LeaseTimeToLive({ ID: '7007' }, as(s, 'alice')), {
        tolerance: { TTL: 1 },
      }),
      step('alice: LeaseTimeToLive with keys', (s) => s.c.lease.LeaseTimeToLive({ ID: '7007', keys: true }, as(s, 'alice')), {
        peerOnly: { expect: DENIED, why: `reading a lease's keys needs read permission on them: ${STRICTER}` },
      }),
      step('LeaseGrant without a token', (s) => s.c.lease.LeaseGrant({ ID: '7008', TTL: 60 }), {
        peerOnly: { expect: USER_EMPTY, why: `LeaseGrant needs a user: ${STRICTER}` },
      }),
      step('alice: LeaseGrant 7009, put rw/m on it, revoke it', async (s) => {
        await s.c.lease.LeaseGrant({ ID: s.alias('nine', '7009'), TTL: 60 }, as(s, 'alice'));
        await s.c.kv.Put({ key: s.k('rw/m'), value: b('m'), lease: '7009' }, as(s, 'alice'));
        return s.c.lease.LeaseRevoke({ ID: '7009' }, as(s, 'alice'));
      }),
      step('root: LeaseRevoke 7', (s) => s.c.lease.LeaseRevoke({ ID: '7007' }, as(s, 'root'))),
    ],
  },
  {
    name: 'simple tokens expire after --auth-token-ttl without use',
    fresh: true,
    serverArgs: ['--auth-token-ttl', '2'],
    timeoutMs: 60_000,
    steps: [
      ...setup,
      step('alice uses her token every second for 3 s: it stays valid', async (s) => {
        const out: Msg[] = [];
        for (let i = 0; i < 3; i++) {
          await sleep(1000);
          out.push(await s.c.kv.Range({ key: s.k('rw/a') }, as(s, 'alice')));
        }
        return out.length;
      }),
      step(
        'bob, idle for those 3 s + 1',
        async (s) => {
          await sleep(1000);
          return s.c.kv.Range({ key: s.k('rw/a') }, as(s, 'bob'));
        },
        { etcd: BAD_TOKEN },
      ),
    ],
  },
  {
    name: 'JWT tokens: any auth change makes older tokens "revision of auth store is old"',
    fresh: true,
    serverArgs: ['--auth-token', `jwt,pub-key=${JWT.pub},priv-key=${JWT.priv},sign-method=RS256`],
    timeoutMs: 60_000,
    steps: [
      ...setup,
      step('alice: Put rw/a', (s) => s.c.kv.Put({ key: s.k('rw/a'), value: b('1') }, as(s, 'alice'))),
      step('alice: Range x', (s) => s.c.kv.Range({ key: s.k('x') }, as(s, 'alice')), { etcd: DENIED }),
      step('root: RoleAdd other (the auth revision moves)', (s) => s.c.auth.RoleAdd({ name: 'other' }, as(s, 'root'))),
      step('alice, token from before: Put rw/a', (s) => s.c.kv.Put({ key: s.k('rw/a'), value: b('2') }, as(s, 'alice')), {
        etcd: OLD_REVISION,
      }),
      step('alice, token from before: Range rw/a', (s) => s.c.kv.Range({ key: s.k('rw/a') }, as(s, 'alice')), { etcd: OLD_REVISION }),
      login('alice', 'alicepw'),
      step('alice, new token: Range rw/a', (s) => s.c.kv.Range({ key: s.k('rw/a') }, as(s, 'alice'))),
      step(
        'a token signed with another key',
        (s) => {
          const md = new grpc.Metadata();
          md.set('token', 'eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCJ9.eyJyZXZpc2lvbiI6OSwidXNlcm5hbWUiOiJyb290In0.c2lnbmF0dXJl');
          return s.c.kv.Range({ key: s.k('rw/a') }, md);
        },
        { etcd: BAD_TOKEN },
      ),
    ],
  },
  {
    name: 'the gateway: Authenticate and the raw token in Authorization (APISIX’s flow)',
    fresh: true,
    timeoutMs: 60_000,
    steps: [
      ...setup,
      step('POST /v3/auth/authenticate', async (s) => {
        const r = await post(s.url, '/v3/auth/authenticate', { name: 'alice', password: 'alicepw' });
        s.set('gw', r.json?.token);
        return { status: r.status, token: typeof r.json?.token === 'string' ? '<token>' : r.json };
      }),
      step('POST /v3/kv/put without Authorization', async (s) => {
        const r = await post(s.url, '/v3/kv/put', { key: s.k('rw/a').toString('base64'), value: 'dg==' });
        return { status: r.status, body: r.json };
      }),
      step('POST /v3/kv/put with the token', async (s) => {
        const r = await post(s.url, '/v3/kv/put', { key: s.k('rw/a').toString('base64'), value: 'dg==' }, { authorization: s.get('gw') });
        return { status: r.status, revision: r.json?.header?.revision };
      }),
      step('POST /v3/kv/range outside her roles', async (s) => {
        const r = await post(s.url, '/v3/kv/range', { key: s.k('x').toString('base64') }, { authorization: s.get('gw') });
        return { status: r.status, body: r.json };
      }),
      step('POST /v3/kv/range with a garbage token', async (s) => {
        const r = await post(s.url, '/v3/kv/range', { key: s.k('x').toString('base64') }, { authorization: 'garbage' });
        return { status: r.status, body: r.json };
      }),
      step('POST /v3/auth/authenticate with a wrong password', async (s) => {
        const r = await post(s.url, '/v3/auth/authenticate', { name: 'alice', password: 'nope' });
        return { status: r.status, body: r.json };
      }),
      step('GET /health needs no token', async (s) => {
        const r = await httpGet(s.url, '/health');
        return { status: r.status };
      }),
    ],
  },
];

diffSuite('auth', cases);
