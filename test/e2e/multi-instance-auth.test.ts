/**
 * Auth across several strata instances on one PostgreSQL / MariaDB database: a user, a role or
 * the enabled flag changed through one instance is in force on every other before the call
 * returns (the auth marks travel with the fence); a token issued by one is taken by the others;
 * a token an instance refuses because it was renewed elsewhere is replaced by etcd's own Go
 * client without the request failing.
 */
import * as path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { spawnSync } from 'node:child_process';
import { beforeAll, expect, test } from 'vitest';
import { get as httpGet } from '../gateway/http';
import { b, prefixEnd, type EtcdClient } from '../helpers/client';
import { expectGrpcError } from '../helpers/grpc-error';
import { buildGoProgram } from '../helpers/go-program';
import { forEachSharedBackend, type Cluster } from './multi-harness';

const INSTANCES = 3;
/** Short, so a token idle on one instance expires within the test; each step authenticates afresh. */
const TOKEN_TTL_S = 3;

const DENIED = 'etcdserver: permission denied';

function withToken(token: string): grpc.Metadata {
  const md = new grpc.Metadata();
  md.set('token', token);
  return md;
}

async function login(c: EtcdClient, name: string, password: string): Promise<grpc.Metadata> {
  return withToken((await c.auth.Authenticate({ name, password })).token as string);
}

/** How many Authenticate calls an instance has answered OK (its /metrics). */
async function authenticated(url: string): Promise<number> {
  const r = await httpGet(url, '/metrics');
  const line = r.text
    .split('\n')
    .find((l) => l.startsWith('strata_requests_total{') && l.includes('method="Authenticate"') && l.includes('code="0"'));
  return line ? Number(line.slice(line.lastIndexOf(' ') + 1)) : 0;
}

const authClient = buildGoProgram({
  src: path.resolve(__dirname, '../auth-client'),
  name: 'auth-client',
  needs: { file: 'go.etcd.io/etcd/clientv3/client.go', what: "etcd's Go client", install: 'apt-get install -y golang-etcd-server-dev' },
});

forEachSharedBackend(
  'multi-instance-auth',
  INSTANCES,
  (cl: Cluster) => {
    const C = (i: number): EtcdClient => cl.clients[i % INSTANCES];
    let p: string;
    let root: grpc.Metadata;

    beforeAll(async () => {
      p = cl.prefix('auth');
      // Set up through instance 0, enable through instance 1.
      await C(0).auth.UserAdd({ name: 'root', password: 'rootpw' });
      await C(0).auth.UserGrantRole({ user: 'root', role: 'root' });
      await C(0).auth.UserAdd({ name: 'alice', password: 'alicepw' });
      await C(0).auth.RoleAdd({ name: 'app' });
      await C(0).auth.RoleGrantPermission({ name: 'app', perm: { permType: 'READWRITE', key: b(p), range_end: prefixEnd(p) } });
      await C(0).auth.UserGrantRole({ user: 'alice', role: 'app' });
      await C(1).auth.AuthEnable({});
    });

    test('auth enabled through one instance is in force on the others before the call returned', async () => {
      for (const i of [0, 2]) {
        await expectGrpcError(C(i).kv.Range({ key: b(`${p}k`) }), grpc.status.INVALID_ARGUMENT, 'etcdserver: user name is empty');
        await expectGrpcError(
          C(i).kv.Put({ key: b(`${p}k`), value: b('v') }),
          grpc.status.INVALID_ARGUMENT,
          'etcdserver: user name is empty',
        );
      }
      root = await login(C(2), 'root', 'rootpw');
      expect((await C(0).auth.AuthStatus({}, root)).enabled).toBe(true);
    });

    test('a token issued by one instance is taken by every other', async () => {
      const alice = await login(C(0), 'alice', 'alicepw');
      for (let i = 0; i < INSTANCES; i++) await C(i).kv.Put({ key: b(`${p}from-${i}`), value: b('v') }, alice);
      const r = await C(2).kv.Range({ key: b(p), range_end: prefixEnd(p) }, alice);
      expect(r.kvs.length).toBe(INSTANCES);
      await expectGrpcError(C(1).kv.Put({ key: b('/outside'), value: b('v') }, alice), grpc.status.PERMISSION_DENIED, DENIED);
    });

    test('a user added through one instance can log in through another at once', async () => {
      root = await login(C(0), 'root', 'rootpw');
      await C(0).auth.UserAdd({ name: 'bob', password: 'bobpw' }, root);
      await C(0).auth.UserGrantRole({ user: 'bob', role: 'app' }, root);
      const bob = await login(C(1), 'bob', 'bobpw');
      await C(2).kv.Put({ key: b(`${p}bob`), value: b('v') }, bob);
    });

    test('a revoked permission is denied on every instance at once; granted again, allowed at once', async () => {
      root = await login(C(0), 'root', 'rootpw');
      const alice = await login(C(1), 'alice', 'alicepw');
      await C(1).kv.Put({ key: b(`${p}before`), value: b('v') }, alice);
      await C(0).auth.RoleRevokePermission({ role: 'app', key: b(p), range_end: prefixEnd(p) }, root);
      for (let i = 0; i < INSTANCES; i++) {
        await expectGrpcError(C(i).kv.Put({ key: b(`${p}after`), value: b('v') }, alice), grpc.status.PERMISSION_DENIED, DENIED);
        await expectGrpcError(C(i).kv.Range({ key: b(`${p}before`) }, alice), grpc.status.PERMISSION_DENIED, DENIED);
        await expectGrpcError(
          C(i).kv.Txn({ success: [{ request_range: { key: b(`${p}before`) } }] }, alice),
          grpc.status.PERMISSION_DENIED,
          DENIED,
        );
      }
      await C(2).auth.RoleGrantPermission({ name: 'app', perm: { permType: 'READWRITE', key: b(p), range_end: prefixEnd(p) } }, root);
      for (let i = 0; i < INSTANCES; i++) await C(i).kv.Put({ key: b(`${p}again-${i}`), value: b('v') }, alice);
    });

    test('a changed password voids the token on every instance at once', async () => {
      root = await login(C(0), 'root', 'rootpw');
      const bob = await login(C(2), 'bob', 'bobpw');
      await C(0).kv.Range({ key: b(`${p}bob`) }, bob);
      await C(1).auth.UserChangePassword({ name: 'bob', password: 'bobpw2' }, root);
      for (let i = 0; i < INSTANCES; i++) {
        await expectGrpcError(C(i).kv.Range({ key: b(`${p}bob`) }, bob), grpc.status.UNAUTHENTICATED, 'etcdserver: invalid auth token');
      }
    });

    test.skipIf(!authClient)(
      "a token renewed only on one instance and refused by another is replaced by etcd's Go client, transparently",
      async () => {
        const [a, b2] = [cl.servers[0], cl.servers[2]];
        const before = await authenticated(b2.url);
        // Busy on A for longer than the TTL: the token lives on A, and has expired for B.
        const r = spawnSync(
          authClient!,
          [
            '-a',
            a.address,
            '-b',
            b2.address,
            '-user',
            'alice',
            '-password',
            'alicepw',
            '-prefix',
            `${p}go/`,
            '-busy',
            `${TOKEN_TTL_S + 1}s`,
          ],
          { encoding: 'utf8', timeout: 60_000 },
        );
        expect(r.status, `auth-client: ${r.stdout}${r.stderr}`).toBe(0);
        const out = JSON.parse(r.stdout) as { putsOnA: number; putsOnB: number; error?: string };
        expect(out.error).toBeUndefined();
        expect(out.putsOnA).toBeGreaterThan(TOKEN_TTL_S);
        expect(out.putsOnB).toBe(3);
        // B refused the old token once and the client logged in again there.
        expect(await authenticated(b2.url)).toBe(before + 1);
      },
      60_000,
    );

    test('auth disabled through one instance is off on the others at once', async () => {
      root = await login(C(2), 'root', 'rootpw');
      await C(2).auth.AuthDisable({}, root);
      for (let i = 0; i < INSTANCES; i++) await C(i).kv.Put({ key: b(`${p}open-${i}`), value: b('v') });
    });
  },
  ['--auth-token-ttl', String(TOKEN_TTL_S)],
);
