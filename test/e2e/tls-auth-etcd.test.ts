/**
 * Certificate users against the real etcd: etcd and strata started with the same certificates and
 * flags (--cert-file, --key-file, --trusted-ca-file, --client-cert-auth), the same etcdctl steps run
 * against both with `--cacert/--cert/--key` (CN = the user) and with auth enabled, and exit codes,
 * stdout and the error line compared. Also the gateway's answer to a certificate once auth is on.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import * as https from 'node:https';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { makePki, type CertPair, type Pki } from '../helpers/certs';
import { createClient } from '../helpers/client';
import { freePort, waitFor } from '../helpers/ports';
import { ETCDCTL_BIN, ETCD_BIN, haveTool, STRATA_BIN } from '../helpers/servers';
import { requireBuild } from './strata-cli';

interface Side {
  name: string;
  port: number;
  proc: ChildProcess;
  dir: string;
  logs(): string;
}

const haveTools = haveTool(ETCDCTL_BIN, 'etcdctl') && haveTool(ETCD_BIN, 'etcd');

async function start(name: 'etcd' | 'strata', pki: Pki, admin: CertPair, clientCertAuth = true): Promise<Side> {
  const port = await freePort();
  const dir = mkdtempSync(path.join(tmpdir(), `tls-auth-${name}-`));
  const url = `https://127.0.0.1:${port}`;
  const tlsFlags = [
    '--cert-file',
    pki.server.cert,
    '--key-file',
    pki.server.key,
    '--trusted-ca-file',
    pki.ca,
    ...(clientCertAuth ? ['--client-cert-auth'] : []),
  ];
  let proc: ChildProcess;
  if (name === 'etcd') {
    const peer = `http://127.0.0.1:${await freePort()}`;
    proc = spawn(
      ETCD_BIN,
      [
        '--name',
        'default',
        '--data-dir',
        dir,
        '--listen-client-urls',
        url,
        '--advertise-client-urls',
        url,
        '--listen-peer-urls',
        peer,
        '--initial-advertise-peer-urls',
        peer,
        '--initial-cluster',
        `default=${peer}`,
        '--log-level',
        'error',
        '--logger',
        'zap',
        ...tlsFlags,
      ],
      { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ETCD_UNSUPPORTED_ARCH: process.arch } },
    );
  } else {
    proc = spawn(
      process.execPath,
      [STRATA_BIN, '--listen-client-urls', url, '--endpoint', `sqlite://${dir}/state.db`, '--log-level', 'warn', ...tlsFlags],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
  }
  let out = '';
  proc.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  proc.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  const c = createClient(
    `127.0.0.1:${port}`,
    grpc.credentials.createSsl(readFileSync(pki.ca), readFileSync(admin.key), readFileSync(admin.cert)),
  );
  try {
    await waitFor(async () => (await c.maintenance.Status({}), true), 20_000, name).catch((e: Error) => {
      throw new Error(`${e.message}\n${out}`);
    });
  } finally {
    c.close();
  }
  return { name, port, proc, dir, logs: () => out };
}

interface Step {
  name: string;
  cert: 'root' | 'alice' | 'bob';
  args: string[];
  code?: number;
}

const steps: Step[] = [
  { name: 'user add root', cert: 'root', args: ['user', 'add', 'root:rootpw'] },
  { name: 'role add', cert: 'root', args: ['role', 'add', 'app'] },
  { name: 'grant --prefix', cert: 'root', args: ['role', 'grant-permission', '--prefix', 'app', 'readwrite', '/app/'] },
  { name: 'user add alice', cert: 'root', args: ['user', 'add', 'alice:alicepw'] },
  { name: 'grant-role', cert: 'root', args: ['user', 'grant-role', 'alice', 'app'] },
  { name: 'auth enable', cert: 'root', args: ['auth', 'enable'] },
  { name: 'CN root puts anywhere', cert: 'root', args: ['put', '/x', '1'] },
  { name: 'CN alice puts in her prefix', cert: 'alice', args: ['put', '/app/k', 'v'] },
  { name: 'CN alice reads it', cert: 'alice', args: ['get', '/app/k'] },
  { name: 'CN alice outside her prefix', cert: 'alice', args: ['put', '/x', '2'], code: 1 },
  { name: 'CN alice user list', cert: 'alice', args: ['user', 'list'], code: 1 },
  { name: 'a token wins over the CN', cert: 'alice', args: ['--user', 'root:rootpw', 'put', '/x', '3'] },
  { name: 'CN bob is no user', cert: 'bob', args: ['get', '/x'], code: 1 },
  { name: 'CN root role get', cert: 'root', args: ['role', 'get', 'app'] },
  { name: 'CN root auth disable', cert: 'root', args: ['auth', 'disable'] },
  { name: 'CN bob once auth is off', cert: 'bob', args: ['get', '/x', '--print-value-only'] },
];

async function stopSides(sides: Array<Side | undefined>): Promise<void> {
  for (const side of sides) {
    if (!side) continue;
    side.proc.kill('SIGTERM');
    await new Promise((r) => side.proc.once('exit', r));
    rmSync(side.dir, { recursive: true, force: true });
  }
}

function ctl(side: Side, pki: Pki, c: CertPair, args: string[]) {
  const r = spawnSync(
    ETCDCTL_BIN,
    [
      '--endpoints',
      `https://127.0.0.1:${side.port}`,
      '--cacert',
      pki.ca,
      '--cert',
      c.cert,
      '--key',
      c.key,
      '--dial-timeout',
      '3s',
      ...args,
    ],
    { env: { ...process.env, ETCDCTL_API: '3' }, encoding: 'utf8', timeout: 30_000 },
  );
  // etcdctl's zap warnings carry timestamps and client ids; the error line is what a user reads.
  const errorLine = r.stderr.split('\n').filter((l) => l.startsWith('Error:'));
  const stdout = r.stdout.replace(/"(cluster_id|member_id|raft_term|revision)":\d+/g, '"$1":0');
  return { code: r.status, stdout, errorLine };
}

function gatewayRange(side: Side, pki: Pki, c: CertPair): Promise<{ status?: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = https.request(
      {
        host: '127.0.0.1',
        servername: 'localhost',
        port: side.port,
        method: 'POST',
        path: '/v3/kv/range',
        ca: readFileSync(pki.ca),
        cert: readFileSync(c.cert),
        key: readFileSync(c.key),
      },
      (res) => {
        let d = '';
        res.on('data', (x: Buffer) => (d += x.toString()));
        res.on('end', () =>
          resolve({ status: res.statusCode, body: d.replace(/"(cluster_id|member_id|raft_term|revision)":"\d+"/g, '"$1":"0"') }),
        );
      },
    );
    req.on('error', reject);
    req.end(JSON.stringify({ key: Buffer.from('/app/k').toString('base64') }));
  });
}

describe.skipIf(!haveTools)('certificate users (CN) with auth: etcd vs strata, same certificates and flags', () => {
  let pki: Pki;
  let certs: Record<Step['cert'], CertPair>;
  let etcd: Side;
  let strata: Side;

  beforeAll(async () => {
    requireBuild();
    pki = makePki();
    certs = { root: pki.client('root'), alice: pki.client('alice'), bob: pki.client('bob') };
    [etcd, strata] = await Promise.all([start('etcd', pki, certs.root), start('strata', pki, certs.root)]);
  }, 60_000);

  afterAll(async () => {
    await stopSides([etcd, strata]);
    pki?.cleanup();
  });

  for (const st of steps) {
    test(st.name, async () => {
      const want = ctl(etcd, pki, certs[st.cert], st.args);
      expect(want.code, `etcd's exit code (the sequence itself is off): ${want.errorLine.join('\n')}`).toBe(st.code ?? 0);
      expect(ctl(strata, pki, certs[st.cert], st.args)).toEqual(want);
      if (st.name === 'CN alice reads it') {
        // etcd's gateway refuses a certificate it would otherwise ignore, once auth is on.
        const ref = await gatewayRange(etcd, pki, certs.alice);
        expect(ref.status).toBe(400);
        expect(await gatewayRange(strata, pki, certs.alice)).toEqual(ref);
      }
    });
  }
});

describe.skipIf(!haveTools)('a trusted CA without --client-cert-auth: certificates checked, the CN never the user (etcd vs strata)', () => {
  let pki: Pki;
  let root: CertPair;
  let etcd: Side;
  let strata: Side;

  beforeAll(async () => {
    requireBuild();
    pki = makePki();
    root = pki.client('root');
    [etcd, strata] = await Promise.all([start('etcd', pki, root, false), start('strata', pki, root, false)]);
  }, 60_000);

  afterAll(async () => {
    await stopSides([etcd, strata]);
    pki?.cleanup();
  });

  const cnSteps: Array<{ name: string; args: string[]; code?: number }> = [
    { name: 'user add root', args: ['user', 'add', 'root:rootpw'] },
    { name: 'auth enable', args: ['auth', 'enable'] },
    { name: 'CN root without a token', args: ['get', '/x'], code: 1 },
    { name: 'the token', args: ['--user', 'root:rootpw', 'put', '/app/k', 'v'] },
  ];
  for (const st of cnSteps) {
    test(st.name, () => {
      const want = ctl(etcd, pki, root, st.args);
      expect(want.code, want.errorLine.join('\n')).toBe(st.code ?? 0);
      expect(ctl(strata, pki, root, st.args)).toEqual(want);
    });
  }

  test('the gateway takes no CN and does not refuse the certificate either', async () => {
    const ref = await gatewayRange(etcd, pki, root);
    expect(ref.body).toMatch(/user name is empty/);
    expect(await gatewayRange(strata, pki, root)).toEqual(ref);
  });
});
