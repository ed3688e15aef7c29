// v3lock and v3election with auth enabled, against etcd: every step is a KV/Lease/Watch call made
// with the caller's token, so the same permissions decide, and a denial reaches the caller as
// etcd's lock and election servers pass it on (code Unknown, the auth error's text).
import * as grpc from '@grpc/grpc-js';
import { afterAll } from 'vitest';
import { createConcurrencyClient, type ConcurrencyClient } from '../helpers/concurrency-client';
import { b, diffSuite, grpcError, step, type Case, type Msg, type Side } from './harness';

const DENIED = grpcError('UNKNOWN', 'etcdserver: permission denied');

const clients = new Map<Side, ConcurrencyClient>();
afterAll(() => {
  for (const c of clients.values()) c.close();
});
function cc(s: Side): ConcurrencyClient {
  let c = clients.get(s);
  if (!c) clients.set(s, (c = createConcurrencyClient(s.url.replace(/^http:\/\//, ''))));
  return c;
}

function as(s: Side, name: string): grpc.Metadata {
  const md = new grpc.Metadata();
  md.set('token', s.get<string>(name));
  return md;
}

/** An owner key without its lease part (the lease IDs differ between the servers). */
const keyName = (k: unknown): string =>
  Buffer.from(k as Buffer)
    .toString()
    .replace(/\/[0-9a-f]+$/, '/<lease>');

const cases: Case[] = [
  {
    name: 'lock and election under auth',
    fresh: true,
    steps: [
      step('UserAdd root, grant root', async (s) => {
        await s.c.auth.UserAdd({ name: 'root', password: 'rootpw' });
        return s.c.auth.UserGrantRole({ user: 'root', role: 'root' });
      }),
      step('alice: READWRITE on rw/, READ on ro/', async (s) => {
        await s.c.auth.UserAdd({ name: 'alice', password: 'alicepw' });
        await s.c.auth.RoleAdd({ name: 'a' });
        await s.c.auth.RoleGrantPermission({ name: 'a', perm: { permType: 'READWRITE', key: s.k('rw/'), range_end: s.end('rw/') } });
        await s.c.auth.RoleGrantPermission({ name: 'a', perm: { permType: 'READ', key: s.k('ro/'), range_end: s.end('ro/') } });
        return s.c.auth.UserGrantRole({ user: 'alice', role: 'a' });
      }),
      step('AuthEnable', (s) => s.c.auth.AuthEnable({})),
      step('Authenticate alice', async (s) => {
        s.set('alice', (await s.c.auth.Authenticate({ name: 'alice', password: 'alicepw' })).token);
        const l = await s.c.lease.LeaseGrant({ TTL: 30 }, as(s, 'alice'));
        s.alias('A', l.ID);
        return 'ok';
      }),
      step('lock without a token', (s) => cc(s).lock('Lock', { name: s.k('rw/l'), lease: s.id('A') }).done, {
        etcd: grpcError('UNKNOWN', 'etcdserver: user name is empty'),
      }),
      step('alice locks under rw/', async (s) => {
        const r = await cc(s).lock('Lock', { name: s.k('rw/l'), lease: s.id('A') }, as(s, 'alice')).done;
        s.set('key', r.key);
        return { ...r, key: keyName(r.key) };
      }),
      step('alice locks under ro/ (no write)', (s) => cc(s).lock('Lock', { name: s.k('ro/l'), lease: s.id('A') }, as(s, 'alice')).done, {
        etcd: DENIED,
      }),
      step('alice unlocks a key outside her range', (s) => cc(s).lock('Unlock', { key: s.k('other/k') }, as(s, 'alice')).done),
      step('alice unlocks her key', (s) => cc(s).lock('Unlock', { key: s.get<Buffer>('key') }, as(s, 'alice')).done),
      step('alice campaigns under rw/', async (s) => {
        const r = await cc(s).election('Campaign', { name: s.k('rw/e'), lease: s.id('A'), value: b('v') }, as(s, 'alice')).done;
        return { header: r.header, key: keyName(r.leader.key), lease: r.leader.lease };
      }),
      step('alice reads the leader of ro/ (read only): none', (s) => cc(s).election('Leader', { name: s.k('ro/e') }, as(s, 'alice')).done, {
        etcd: grpcError('UNKNOWN', 'election: no leader'),
      }),
      step('alice reads the leader of other/', (s) => cc(s).election('Leader', { name: s.k('other/e') }, as(s, 'alice')).done),
      step(
        'alice campaigns under ro/',
        (s) => cc(s).election('Campaign', { name: s.k('ro/e'), lease: s.id('A'), value: b('v') }, as(s, 'alice')).done,
      ),
      step(
        'alice observes other/: the stream ends at once without a message',
        (s) =>
          new Promise<Msg>((resolve) => {
            const seen: Msg[] = [];
            const o = cc(s).observe({ name: s.k('other/e') }, as(s, 'alice'));
            o.on('data', (m: Msg) => seen.push(m));
            o.on('error', (e: grpc.ServiceError) => resolve({ seen, code: e.code, details: e.details }));
            o.on('end', () => resolve({ seen, ended: true }));
          }),
      ),
    ],
  },
];

diffSuite('lock-election-auth', cases);
