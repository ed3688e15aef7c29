/**
 * TLS to PostgreSQL with kine's flags. The machine's PostgreSQL runs without TLS, so the test puts a
 * TLS front in between: it answers PostgreSQL's SSLRequest with 'S', terminates TLS with a
 * certificate made here for 127.0.0.1, and relays the plaintext protocol to the real server.
 * Checked: sslmode=require encrypts; --datastore-cafile verifies (and a wrong CA is refused); --skip-verify
 * connects without verification; sslmode=disable stays plaintext and the front refuses it.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import * as net from 'node:net';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import * as tls from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { b, createClient, s } from '../helpers/client';
import { startStrata, STRATA_BIN } from '../helpers/servers';
import { databaseFor, dropDatabase, noBackendReason, PG_BASE, skippedSuite, testBackend } from '../helpers/targets';

const SUITE = 'TLS to PostgreSQL (kine flags)';
const SSL_REQUEST = Buffer.from([0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f]);

function makeCert(dir: string, name: string): { cert: string; key: string } {
  const key = path.join(dir, `${name}.key`);
  const cert = path.join(dir, `${name}.crt`);
  const r = spawnSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-days',
      '1',
      '-subj',
      `/CN=${name}`,
      '-addext',
      'subjectAltName=IP:127.0.0.1',
      '-keyout',
      key,
      '-out',
      cert,
    ],
    { encoding: 'utf8' },
  );
  if (r.status !== 0) throw new Error(`openssl: ${r.stderr}`);
  return { cert, key };
}

/** The TLS front; counts sessions that completed a TLS handshake and connections refused. */
function tlsFront(upstream: { host: string; port: number }, cert: string, key: string) {
  const stats = { tlsSessions: 0, plaintextRefused: 0 };
  const ctx = tls.createSecureContext({ cert: readFileSync(cert), key: readFileSync(key) });
  const server = net.createServer((sock) => {
    sock.once('data', (first) => {
      if (!first.subarray(0, 8).equals(SSL_REQUEST)) {
        stats.plaintextRefused++;
        sock.destroy();
        return;
      }
      sock.write('S');
      const secure = new tls.TLSSocket(sock, { isServer: true, secureContext: ctx });
      secure.on('secure', () => stats.tlsSessions++);
      const up = net.connect(upstream);
      secure.pipe(up).pipe(secure);
      const close = () => {
        secure.destroy();
        up.destroy();
      };
      secure.on('error', close);
      up.on('error', close);
      secure.on('close', close);
      up.on('close', close);
    });
    sock.on('error', () => sock.destroy());
  });
  return { server, stats };
}

/**
 * Runs the CLI to its exit without blocking this process (the TLS front lives here). Start-up
 * does not wait for the database here (--datastore-connect-timeout 0): each case is about the
 * first attempt's error.
 */
function runCli(args: string[]): Promise<{ status: number | null; output: string }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [STRATA_BIN, '--datastore-connect-timeout', '0', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    p.stdout.on('data', (d: Buffer) => (output += d.toString()));
    p.stderr.on('data', (d: Buffer) => (output += d.toString()));
    const timer = setTimeout(() => p.kill('SIGKILL'), 20_000);
    p.on('exit', (status) => {
      clearTimeout(timer);
      resolve({ status, output });
    });
  });
}

if (!testBackend('postgres')) skippedSuite(SUITE, noBackendReason(['postgres']));
else
  describe(SUITE, () => {
    let dir: string;
    let front: ReturnType<typeof tlsFront>;
    let port: number;
    let certs: { cert: string; key: string };
    let other: { cert: string; key: string };
    const base = new URL(PG_BASE.replace(/^postgres(ql)?:/, 'http:'));

    beforeAll(async () => {
      dir = mkdtempSync(path.join(tmpdir(), 'strata-pgtls-'));
      certs = makeCert(dir, 'db');
      other = makeCert(dir, 'stranger');
      front = tlsFront({ host: base.hostname, port: Number(base.port || 5432) }, certs.cert, certs.key);
      await new Promise<void>((r) => front.server.listen(0, '127.0.0.1', r));
      port = (front.server.address() as net.AddressInfo).port;
    });
    afterAll(async () => {
      await new Promise<void>((r) => front?.server.close(() => r()));
      dropDatabase('postgres', databaseFor(dir));
      rmSync(dir, { recursive: true, force: true });
    });

    const endpoint = (params: string) => `postgres://${base.username || 'postgres'}@127.0.0.1:${port}/${databaseFor(dir)}?${params}`;

    it('--datastore-cafile turns on verified TLS; writes and reads go through it', async () => {
      const before = front.stats.tlsSessions;
      const server = await startStrata({ endpoint: endpoint('application_name=tls-test'), args: ['--datastore-cafile', certs.cert] });
      try {
        const c = createClient(server.address);
        await c.kv.Put({ key: b('tls'), value: b('yes') });
        expect(s((await c.kv.Range({ key: b('tls') })).kvs[0].value)).toBe('yes');
        c.close();
        expect(front.stats.tlsSessions).toBeGreaterThan(before);
      } finally {
        await server.stop();
        server.cleanup();
      }
    });

    it('sslmode=require encrypts without verifying; --skip-verify does the same for a verified mode', async () => {
      for (const args of [
        { params: 'sslmode=require', flags: [] },
        { params: 'sslmode=verify-full', flags: ['--skip-verify'] },
      ]) {
        const before = front.stats.tlsSessions;
        const server = await startStrata({ endpoint: endpoint(args.params), args: args.flags });
        try {
          const c = createClient(server.address);
          expect((await c.kv.Range({ key: b('tls') })).kvs).toHaveLength(1);
          c.close();
          expect(front.stats.tlsSessions).toBeGreaterThan(before);
        } finally {
          await server.stop();
          server.cleanup();
        }
      }
    });

    it('a certificate from another CA is refused, with exit code 1 and a message that names the problem', async () => {
      const r = await runCli([
        '--listen-address',
        '127.0.0.1:0',
        '--endpoint',
        endpoint('sslmode=verify-full'),
        '--datastore-cafile',
        other.cert,
      ]);
      expect(r.status).toBe(1);
      expect(r.output).toMatch(/cannot open postgres:\/\/.*certificate/i);
    });

    it('sslmode=disable speaks plaintext (which this front refuses)', async () => {
      const before = front.stats.plaintextRefused;
      const r = await runCli(['--listen-address', '127.0.0.1:0', '--endpoint', endpoint('sslmode=disable&connect_timeout=5')]);
      expect(r.status).toBe(1);
      expect(front.stats.plaintextRefused).toBeGreaterThan(before);
    });

    it('a password in the endpoint never reaches the logs', async () => {
      const secret = 'hunter2-very-secret';
      const r = await runCli([
        '--listen-address',
        '127.0.0.1:0',
        '--endpoint',
        `postgres://postgres:${secret}@127.0.0.1:1/x?sslmode=disable`,
      ]);
      expect(r.status).toBe(1);
      expect(r.output).toMatch(/cannot open postgres:\/\/postgres@127\.0\.0\.1:1\/x/);
      expect(r.output).not.toContain(secret);
    });
  });
