// etcdctl's auth commands (user, role, auth enable/disable, --user, --password) against a real
// etcd (the reference) and strata (the peer), each step's exit code, stdout and stderr compared
// after the etcdctl suite's normalisation. `auth enable` with a root user that lacks the root role
// is etcdctl's own flow: it adds the role, grants it and enables again.
//
// STRATA_TEST_AGAINST=etcd runs the peer side against a second real etcd.
import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { ETCDCTL_BIN, ETCD_BIN, haveTool } from '../helpers/servers';
import { Side, normalise, sidesPerSuite, type CtlResult } from './etcdctl-harness';

interface Step {
  name: string;
  args: string[];
  input?: string;
  /** The reference's exit code (guards the sequence itself); default 0. */
  code?: number;
}

const ROOT = ['--user', 'root:rootpw'];
/** Where `snapshot save` writes (the same file for both sides, one after the other). */
const SNAPSHOT = path.join(tmpdir(), `strata-etcdctl-auth-${process.pid}.snapshot`);
const ALICE = ['--user', 'alice:alicepw'];

const steps: Step[] = [
  { name: 'user add root', args: ['user', 'add', 'root:rootpw'] },
  { name: 'auth enable (etcdctl adds and grants the root role)', args: ['auth', 'enable'] },
  { name: 'user add without credentials', args: ['user', 'add', 'eve:x'], code: 1 },
  { name: 'role add', args: [...ROOT, 'role', 'add', 'app'] },
  { name: 'role grant-permission --prefix', args: [...ROOT, 'role', 'grant-permission', '--prefix', 'app', 'readwrite', '/app/'] },
  { name: 'role grant-permission read on one key', args: [...ROOT, 'role', 'grant-permission', 'app', 'read', '/ro'] },
  { name: 'role grant-permission from a key on', args: [...ROOT, 'role', 'grant-permission', '--from-key', 'app', 'write', '/w'] },
  { name: 'user add alice', args: [...ROOT, 'user', 'add', 'alice:alicepw'] },
  { name: 'user add a user without a password', args: [...ROOT, 'user', 'add', 'svc', '--no-password'] },
  { name: 'user grant-role', args: [...ROOT, 'user', 'grant-role', 'alice', 'app'] },
  { name: 'role get', args: [...ROOT, 'role', 'get', 'app'] },
  { name: 'role get -w json', args: [...ROOT, 'role', 'get', 'app', '-w', 'json'] },
  { name: 'user get', args: [...ROOT, 'user', 'get', 'alice'] },
  { name: 'user get --detail', args: [...ROOT, 'user', 'get', 'alice', '--detail'] },
  { name: 'user list', args: [...ROOT, 'user', 'list'] },
  { name: 'role list', args: [...ROOT, 'role', 'list'] },
  { name: '--user alice put in her prefix', args: [...ALICE, 'put', '/app/k', 'v'] },
  { name: '--user alice get', args: [...ALICE, 'get', '/app/k'] },
  { name: '--user alice get --prefix', args: [...ALICE, 'get', '--prefix', '/app/'] },
  { name: '--user with --password', args: ['--user', 'alice', '--password', 'alicepw', 'get', '/app/k', '-w', 'json'] },
  { name: '--user alice put outside her roles', args: [...ALICE, 'put', '/other', 'v'], code: 1 },
  { name: '--user alice put the read-only key', args: [...ALICE, 'put', '/ro', 'v'], code: 1 },
  { name: '--user alice del --prefix', args: [...ALICE, 'del', '--prefix', '/app/'] },
  { name: 'get without credentials', args: ['get', '/app/k'], code: 1 },
  // A failed login happens while connecting: etcdctl's exit code for a bad connection.
  { name: '--user with a wrong password', args: ['--user', 'alice:wrong', 'get', '/app/k'], code: 2 },
  { name: '--user of an unknown user', args: ['--user', 'nobody:x', 'get', '/app/k'], code: 2 },
  { name: '--user alice user list', args: [...ALICE, 'user', 'list'], code: 1 },
  { name: '--user alice auth disable', args: [...ALICE, 'auth', 'disable'], code: 1 },
  { name: '--user alice snapshot save (admin only)', args: [...ALICE, 'snapshot', 'save', SNAPSHOT], code: 5 },
  { name: '--user alice endpoint hashkv (admin only)', args: [...ALICE, 'endpoint', 'hashkv'], code: 1 },
  { name: 'root snapshot save', args: [...ROOT, 'snapshot', 'save', SNAPSHOT] },
  { name: 'user passwd (from stdin)', args: [...ROOT, 'user', 'passwd', 'alice', '--interactive=false'], input: 'newpw\n' },
  { name: '--user alice, old password', args: [...ALICE, 'get', '/app/k'], code: 2 },
  { name: '--user alice, new password', args: ['--user', 'alice:newpw', 'get', '/app/k'] },
  { name: 'role revoke-permission', args: [...ROOT, 'role', 'revoke-permission', 'app', '/ro'] },
  { name: 'role revoke-permission not granted', args: [...ROOT, 'role', 'revoke-permission', 'app', '/ro'], code: 1 },
  { name: 'user revoke-role', args: [...ROOT, 'user', 'revoke-role', 'alice', 'app'] },
  { name: '--user alice after the revoke', args: ['--user', 'alice:newpw', 'put', '/app/k', 'v'], code: 1 },
  { name: 'user delete root while enabled', args: [...ROOT, 'user', 'delete', 'root'], code: 1 },
  { name: 'user delete', args: [...ROOT, 'user', 'delete', 'alice'] },
  { name: 'role delete', args: [...ROOT, 'role', 'delete', 'app'] },
  { name: 'role delete an unknown role', args: [...ROOT, 'role', 'delete', 'app'], code: 1 },
  { name: 'auth disable', args: [...ROOT, 'auth', 'disable'] },
  { name: 'get without credentials once auth is off', args: ['get', '--prefix', '/'] },
];

const haveTools = haveTool(ETCDCTL_BIN, 'etcdctl') && haveTool(ETCD_BIN, 'etcd');

describe.skipIf(!haveTools)('etcdctl auth: reference etcd vs peer', () => {
  const sides = sidesPerSuite();
  afterAll(() => rmSync(SNAPSHOT, { force: true }));

  // etcdctl's snapshot save logs from two goroutines (the stream's reader and the main one), in
  // either order whatever the server does: its log lines are compared as a set, the rest in order.
  const logLinesSorted = (r: CtlResult): CtlResult => {
    const lines = r.stderr.split('\n');
    const logs = lines.filter((l) => l.startsWith('<log ')).sort();
    return { ...r, stderr: [...logs, ...lines.filter((l) => !l.startsWith('<log '))].join('\n') };
  };
  const run = (st: Step, side: Side): CtlResult => logLinesSorted(normalise(side.ctl(st.args, st.input), side));

  for (const st of steps) {
    test(st.name, () => {
      const { ref, peer } = sides;
      const want = run(st, ref);
      expect(want.code, `the reference etcd's exit code (the sequence itself is off); stderr:\n${want.stderr}`).toBe(st.code ?? 0);
      expect(run(st, peer)).toEqual(want);
    });
  }
});
