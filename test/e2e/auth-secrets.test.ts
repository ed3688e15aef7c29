/**
 * Bad input to auth, and what the logs keep: garbage and oversized tokens, huge passwords, unknown
 * users and a flood of wrong passwords get etcd's errors and leave the server serving; after all
 * of it (at debug level) no password and no token appears in the process's output.
 */
import * as grpc from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { b, createClient, type EtcdClient } from '../helpers/client';
import { expectGrpcError } from '../helpers/grpc-error';
import { startStrata, type Server } from '../helpers/servers';
import { requireBuild } from './strata-cli';

const ROOT_PW = 'R00t-pa55word-never-logged';
const ALICE_PW = 'alice-pa55word-never-logged';
const GARBAGE = 'garbage-token-never-logged';

const md = (token: string) => {
  const m = new grpc.Metadata();
  m.set('token', token);
  return m;
};

describe('auth: bad input and secrets in logs', () => {
  let server: Server;
  let c: EtcdClient;
  const tokens: string[] = [];

  beforeAll(async () => {
    requireBuild();
    server = await startStrata({ args: ['--log-level', 'debug', '--bcrypt-cost', '6'] });
    c = createClient(server.address);
    await c.auth.UserAdd({ name: 'root', password: ROOT_PW });
    await c.auth.UserGrantRole({ user: 'root', role: 'root' });
    await c.auth.AuthEnable({});
  });
  afterAll(async () => {
    c?.close();
    await server?.stop();
    server?.cleanup();
  });

  it('answers bad tokens, huge passwords and unknown users with etcd’s errors', async () => {
    const root = (await c.auth.Authenticate({ name: 'root', password: ROOT_PW })).token as string;
    tokens.push(root);
    await c.auth.UserAdd({ name: 'alice', password: ALICE_PW }, md(root));
    const INVALID = 'etcdserver: invalid auth token';
    for (const t of [GARBAGE, '', '.', 'a.b.c', 'x'.repeat(8000), `${root.slice(0, -2)}zz`]) {
      await expectGrpcError(c.kv.Range({ key: b('k') }, md(t)), grpc.status.UNAUTHENTICATED, INVALID);
    }
    await expectGrpcError(
      c.auth.UserAdd({ name: 'big', password: 'p'.repeat(1 << 20) }, md(root)),
      grpc.status.UNKNOWN,
      'bcrypt: password length exceeds 72 bytes',
    );
    const FAILED = 'etcdserver: authentication failed, invalid user ID or password';
    await expectGrpcError(c.auth.Authenticate({ name: 'alice', password: 'p'.repeat(1 << 20) }), grpc.status.INVALID_ARGUMENT, FAILED);
    await expectGrpcError(c.auth.Authenticate({ name: 'nobody', password: ALICE_PW }), grpc.status.INVALID_ARGUMENT, FAILED);
    await expectGrpcError(c.auth.Authenticate({ name: 'x'.repeat(1 << 20), password: '' }), grpc.status.INVALID_ARGUMENT, FAILED);
    await expectGrpcError(c.auth.UserGet({ name: 'nobody' }, md(root)), grpc.status.FAILED_PRECONDITION, 'etcdserver: user name not found');
  });

  it('a flood of wrong passwords is answered (some with "too many requests") while reads go on', async () => {
    let answered = 0;
    const guesses = Array.from({ length: 400 }, (_, i) =>
      c.auth.Authenticate({ name: 'alice', password: `guess-${i}` }).then(
        () => 'ok',
        (e: grpc.ServiceError) => {
          answered++;
          return e.details;
        },
      ),
    );
    const root = md(tokens[0]);
    for (let i = 0; i < 20; i++) await c.kv.Range({ key: b('k') }, root);
    // bcrypt runs off the event loop: the reads were answered while guesses still waited for it.
    const pendingAfterReads = 400 - answered;
    const answers = await Promise.all(guesses);
    expect(pendingAfterReads).toBeGreaterThan(0);
    const kinds = new Set(answers);
    expect(kinds.has('etcdserver: authentication failed, invalid user ID or password')).toBe(true);
    // Beyond the bounded queue a guess is turned away at once.
    expect(kinds.has('etcdserver: too many requests')).toBe(true);
    expect([...kinds].sort()).toEqual(['etcdserver: authentication failed, invalid user ID or password', 'etcdserver: too many requests']);
    const alice = (await c.auth.Authenticate({ name: 'alice', password: ALICE_PW })).token as string;
    tokens.push(alice);
    await expectGrpcError(c.kv.Range({ key: b('k') }, md(alice)), grpc.status.PERMISSION_DENIED, 'etcdserver: permission denied');
  });

  it('never writes a password or a token to its output', async () => {
    await c.auth.UserChangePassword({ name: 'alice', password: `${ALICE_PW}-2` }, md(tokens[0]));
    await server.stop();
    const logs = server.logs();
    expect(logs).toContain('strata serving');
    for (const secret of [ROOT_PW, ALICE_PW, `${ALICE_PW}-2`, GARBAGE, ...tokens]) expect(logs).not.toContain(secret);
  });
});
