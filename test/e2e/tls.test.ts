/**
 * TLS and mTLS on the client URLs, end to end with the built CLI and certificates made by openssl:
 * handshake refusals (no certificate, another CA, revoked by the CRL), gRPC (ALPN h2) and the
 * gateway (http/1.1, and h2 as etcd's Go server serves it) on one port, several listen URLs with a
 * unix socket, what MemberList advertises, the plaintext metrics address, certificate rotation
 * without a restart, etcdctl and etcd's Go client over mTLS, and the SQLite files' modes.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import * as http from 'node:http';
import * as http2 from 'node:http2';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import * as tls from 'node:tls';
import { readFileSync } from 'node:fs';
import * as grpc from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makePki, type CertPair, type Pki } from '../helpers/certs';
import { b, createClient, s } from '../helpers/client';
import { buildGoProgram } from '../helpers/go-program';
import { freePort, waitFor } from '../helpers/ports';
import { ETCDCTL_BIN } from '../helpers/servers';
import { requireBuild, runCli, spawnCli, stopCli, type CliProc } from './strata-cli';

const tlsClient = buildGoProgram({
  src: path.resolve(__dirname, '../tls-client'),
  name: 'tls-client',
  needs: {
    file: 'go.etcd.io/etcd/pkg/transport/listener.go',
    what: "etcd's Go client",
    install: 'apt-get install -y golang-etcd-server-dev',
  },
});

function grpcCreds(pki: Pki, c?: CertPair): grpc.ChannelCredentials {
  return grpc.credentials.createSsl(readFileSync(pki.ca), c ? readFileSync(c.key) : null, c ? readFileSync(c.cert) : null);
}

/** GET /version over TLS with HTTP/1.1: the answer, or 'refused' when the connection ends without one. */
function tlsGet(
  port: number,
  pki: Pki,
  c: CertPair | undefined,
  opts: tls.ConnectionOptions = {},
): Promise<{ body: string; alpn: string | false | null; serial?: string } | 'refused'> {
  return new Promise((resolve) => {
    const sock = tls.connect({
      host: '127.0.0.1',
      servername: 'localhost',
      port,
      ca: readFileSync(pki.ca),
      ...(c ? { cert: readFileSync(c.cert), key: readFileSync(c.key) } : {}),
      ALPNProtocols: ['http/1.1'],
      ...opts,
    });
    let data = '';
    let serial: string | undefined;
    sock.on('secureConnect', () => {
      serial = sock.getPeerCertificate().serialNumber;
      sock.write('GET /version HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    });
    sock.on('data', (d: Buffer) => (data += d.toString()));
    sock.on('error', () => undefined);
    sock.on('close', () => {
      if (!data) return resolve('refused');
      resolve({ body: data.slice(data.indexOf('\r\n\r\n') + 4), alpn: sock.alpnProtocol, serial });
    });
  });
}

function etcdctl(endpoint: string, args: string[]): { stdout: string; stderr: string; code: number | null } {
  const r = spawnSync(ETCDCTL_BIN, ['--endpoints', endpoint, '--dial-timeout', '3s', '--command-timeout', '5s', ...args], {
    env: { ...process.env, ETCDCTL_API: '3' },
    encoding: 'utf8',
    timeout: 30_000,
  });
  return { stdout: r.stdout, stderr: r.stderr, code: r.status };
}
const certArgs = (pki: Pki, c: CertPair) => ['--cacert', pki.ca, '--cert', c.cert, '--key', c.key];

interface TlsServer {
  proc: CliProc;
  port: number;
  dir: string;
  stop(): Promise<void>;
}

async function startTlsStrata(pki: Pki, args: (port: number, dir: string) => string[], client: CertPair | undefined): Promise<TlsServer> {
  const port = await freePort();
  const dir = mkdtempSync(path.join(tmpdir(), 'strata-tls-'));
  const proc = spawnCli(['--endpoint', `sqlite://${dir}/data/deeper/state.db`, ...args(port, dir)]);
  const c = createClient(`127.0.0.1:${port}`, grpcCreds(pki, client));
  try {
    await waitFor(
      async () => {
        if (!proc.running()) throw new Error('exited');
        await c.maintenance.Status({});
        return true;
      },
      20_000,
      'strata over TLS',
    ).catch((e: Error) => {
      throw new Error(`${e.message}\n${proc.stdout()}\n${proc.stderr()}`);
    });
  } finally {
    c.close();
  }
  return {
    proc,
    port,
    dir,
    async stop() {
      const r = await stopCli(proc);
      rmSync(dir, { recursive: true, force: true });
      expect(r.code).toBe(0);
    },
  };
}

describe('TLS and mTLS on the client URLs', () => {
  let pki: Pki;
  let root: CertPair;
  let alice: CertPair;
  let revoked: CertPair;
  let server: TlsServer;
  let metricsPort: number;
  let socket: string;
  let tlsSocket: string;

  beforeAll(async () => {
    requireBuild();
    pki = makePki();
    root = pki.client('root');
    alice = pki.client('alice');
    revoked = pki.client('revoked');
    const crl = pki.crl([revoked]);
    metricsPort = await freePort();
    server = await startTlsStrata(
      pki,
      (port, dir) => {
        socket = path.join(dir, 'strata.sock');
        tlsSocket = path.join(dir, 'strata-tls.sock');
        return [
          '--listen-client-urls',
          `https://127.0.0.1:${port},unix://${socket},unixs://${tlsSocket}`,
          '--listen-metrics-urls',
          `http://127.0.0.1:${metricsPort}`,
          '--cert-file',
          pki.server.cert,
          '--key-file',
          pki.server.key,
          '--trusted-ca-file',
          pki.ca,
          '--client-cert-auth',
          '--client-crl-file',
          crl,
        ];
      },
      root,
    );
  }, 60_000);

  afterAll(async () => {
    await server?.stop();
    pki?.cleanup();
  });

  it('refuses at the handshake a client without a certificate, with one of another CA, or a revoked one', async () => {
    expect(await tlsGet(server.port, pki, root)).toMatchObject({ body: expect.stringContaining('"etcdserver"'), alpn: 'http/1.1' });
    expect(await tlsGet(server.port, pki, undefined)).toBe('refused');
    expect(await tlsGet(server.port, pki, pki.strangerClient('root'))).toBe('refused');
    expect(await tlsGet(server.port, pki, revoked)).toBe('refused');
    expect(await tlsGet(server.port, pki, revoked, { maxVersion: 'TLSv1.2' })).toBe('refused');
    const r = etcdctl(`https://127.0.0.1:${server.port}`, [
      '--cacert',
      pki.ca,
      '--dial-timeout',
      '1s',
      '--command-timeout',
      '1s',
      'get',
      'x',
    ]);
    expect(r.code).not.toBe(0);
    expect(etcdctl(`https://127.0.0.1:${server.port}`, [...certArgs(pki, root), 'put', '/e/k', 'v']).stdout).toBe('OK\n');
    // A plaintext client on the TLS port gets nothing.
    const plain = createClient(`127.0.0.1:${server.port}`);
    await expect(plain.kv.Range({ key: b('/e/k') })).rejects.toMatchObject({ code: grpc.status.UNAVAILABLE });
    plain.close();
  });

  it('serves gRPC (h2) and the gateway (http/1.1 and h2) on one port; h2 without ALPN gets what etcd gives', async () => {
    const c = createClient(`127.0.0.1:${server.port}`, grpcCreds(pki, alice));
    await c.kv.Put({ key: b('/one/port'), value: b('v') });
    c.close();
    const body = JSON.stringify({ key: b('/one/port').toString('base64') });
    const h1 = await new Promise<string>((resolve, reject) => {
      const req = http.request(
        {
          host: '127.0.0.1',
          port: server.port,
          method: 'POST',
          path: '/v3/kv/range',
          createConnection: () =>
            tls.connect({
              host: '127.0.0.1',
              servername: 'localhost',
              port: server.port,
              ca: readFileSync(pki.ca),
              cert: readFileSync(alice.cert),
              key: readFileSync(alice.key),
              ALPNProtocols: ['http/1.1'],
            }),
        },
        (res) => {
          let d = '';
          res.on('data', (x: Buffer) => (d += x.toString()));
          res.on('end', () => resolve(d));
        },
      );
      req.on('error', reject);
      req.end(body);
    });
    expect(s(Buffer.from(JSON.parse(h1).kvs[0].value, 'base64'))).toBe('v');
    // HTTP/2 by ALPN (curl's and Go's default): /version on the connection gRPC would use.
    const session = http2.connect(`https://127.0.0.1:${server.port}`, {
      servername: 'localhost',
      ca: readFileSync(pki.ca),
      cert: readFileSync(alice.cert),
      key: readFileSync(alice.key),
    });
    const h2 = await new Promise<string>((resolve, reject) => {
      const st = session.request({ ':path': '/version' });
      let d = '';
      st.on('data', (x: Buffer) => (d += x.toString()));
      st.on('end', () => resolve(d));
      st.on('error', reject);
    });
    session.close();
    expect(JSON.parse(h2)).toMatchObject({ etcdserver: expect.any(String) });
    // etcd 3.4 answers an HTTP/2 preface sent without ALPN as HTTP/1.1: 400 and the connection closed.
    const preface = await new Promise<string>((resolve) => {
      const sock = tls.connect({
        host: '127.0.0.1',
        servername: 'localhost',
        port: server.port,
        ca: readFileSync(pki.ca),
        cert: readFileSync(alice.cert),
        key: readFileSync(alice.key),
      });
      let d = '';
      sock.on('secureConnect', () => sock.write('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n'));
      sock.on('data', (x: Buffer) => (d += x.toString('latin1')));
      sock.on('close', () => resolve(d));
      sock.on('error', () => undefined);
    });
    expect(preface).toMatch(/^HTTP\/1\.1 400 Bad Request\r\n/);
  });

  it('listens on a plaintext and a TLS unix socket too, and MemberList advertises the bound URLs', async () => {
    const c = createClient(`unix:${socket}`);
    const m = await c.cluster.MemberList({});
    c.close();
    expect(m.members[0].clientURLs).toEqual([`https://127.0.0.1:${server.port}`, `unix://${socket}`, `unixs://${tlsSocket}`]);
    expect(await tlsGet(0, pki, alice, { path: tlsSocket })).toMatchObject({ body: expect.stringContaining('"etcdserver"') });
    expect(await tlsGet(0, pki, undefined, { path: tlsSocket })).toBe('refused');
  });

  it('serves /metrics and /health in plaintext on --listen-metrics-urls, and nothing else there', async () => {
    const get = (p: string) =>
      new Promise<{ status?: number; body: string }>((resolve, reject) => {
        http
          .get({ host: '127.0.0.1', port: metricsPort, path: p }, (res) => {
            let d = '';
            res.on('data', (x: Buffer) => (d += x.toString()));
            res.on('end', () => resolve({ status: res.statusCode, body: d }));
          })
          .on('error', reject);
      });
    const metrics = await get('/metrics');
    expect(metrics.status).toBe(200);
    expect(metrics.body).toMatch(/strata_requests_total\{service="KV",method="Put",transport="grpc",code="0"\}/);
    expect(await get('/health')).toEqual({ status: 200, body: '{"health":"true","reason":""}' });
    expect((await get('/version')).status).toBe(404);
  });

  it('creates the SQLite folders 0700 and the database, -wal and -shm 0600', () => {
    const mode = (p: string) => statSync(p).mode & 0o777;
    expect([mode(path.join(server.dir, 'data')), mode(path.join(server.dir, 'data/deeper'))]).toEqual([0o700, 0o700]);
    for (const f of ['state.db', 'state.db-wal', 'state.db-shm'])
      expect([f, mode(path.join(server.dir, 'data/deeper', f))]).toEqual([f, 0o600]);
  });

  it.skipIf(!tlsClient)("serves etcd's Go client over mTLS", () => {
    const r = spawnSync(
      tlsClient!,
      ['-endpoint', `https://127.0.0.1:${server.port}`, '-cacert', pki.ca, '-cert', alice.cert, '-key', alice.key],
      {
        encoding: 'utf8',
        timeout: 30_000,
      },
    );
    expect(r.stderr).toBe('');
    expect(JSON.parse(r.stdout)).toEqual({
      value: 'v1',
      watched: 'v2',
      clientURLs: [`https://127.0.0.1:${server.port}`, `unix://${socket}`, `unixs://${tlsSocket}`],
    });
  });
});

describe('certificate rotation', () => {
  let pki: Pki;
  let server: TlsServer;
  let files: CertPair;
  let client: CertPair;
  let crl: string;

  beforeAll(async () => {
    requireBuild();
    pki = makePki();
    files = { cert: path.join(pki.dir, 'live.pem'), key: path.join(pki.dir, 'live.key') };
    copyFileSync(pki.server.cert, files.cert);
    copyFileSync(pki.server.key, files.key);
    client = pki.client('carol');
    crl = path.join(pki.dir, 'live-crl.pem');
    copyFileSync(pki.crl([]), crl);
    server = await startTlsStrata(
      pki,
      (port) => [
        '--listen-client-urls',
        `https://127.0.0.1:${port}`,
        '--advertise-client-urls',
        'https://strata.example:2379',
        '--cert-file',
        files.cert,
        '--key-file',
        files.key,
        '--trusted-ca-file',
        pki.ca,
        '--client-crl-file',
        crl,
        '--log-level',
        'info',
      ],
      client,
    );
  }, 60_000);

  afterAll(async () => {
    await server?.stop();
    pki?.cleanup();
  });

  it('gives new connections a certificate rewritten in place, and keeps the last good one when the new file is broken', async () => {
    const first = await tlsGet(server.port, pki, client);
    expect(first).not.toBe('refused');
    const before = first !== 'refused' ? first.serial : undefined;
    expect(before).toBe(pki.serial(pki.server.cert));
    // A connection opened before the change stays up.
    const old = createClient(`127.0.0.1:${server.port}`, grpcCreds(pki, client));
    await old.kv.Put({ key: b('/rot'), value: b('1') });

    pki.reissueServer('server-2', files);
    const want = pki.serial(files.cert);
    await waitFor(
      async () => {
        const r = await tlsGet(server.port, pki, client);
        return r !== 'refused' && r.serial === want;
      },
      15_000,
      'the new certificate',
    );
    expect((await old.kv.Range({ key: b('/rot') })).kvs).toHaveLength(1);
    old.close();

    writeFileSync(files.cert, 'not a certificate\n');
    await waitFor(() => server.proc.stdout().includes('the previous certificate stays'), 15_000, 'the refusal in the log');
    const after = await tlsGet(server.port, pki, client);
    expect(after !== 'refused' && after.serial).toBe(want);

    // A good pair again: taken on the next change.
    pki.reissueServer('server-3', files);
    const third = pki.serial(files.cert);
    await waitFor(
      async () => {
        const r = await tlsGet(server.port, pki, client);
        return r !== 'refused' && r.serial === third;
      },
      15_000,
      'the repaired certificate',
    );
  });

  it('refuses a client revoked by a CRL rewritten in place, without a restart', async () => {
    expect(await tlsGet(server.port, pki, client)).not.toBe('refused');
    const other = pki.client('dave');
    writeFileSync(crl, readFileSync(pki.crl([client])));
    await waitFor(async () => (await tlsGet(server.port, pki, client)) === 'refused', 15_000, 'the revocation');
    expect(await tlsGet(server.port, pki, other)).not.toBe('refused');
  });

  it('reports --advertise-client-urls in MemberList', async () => {
    const c = createClient(`127.0.0.1:${server.port}`, grpcCreds(pki, pki.client('erin')));
    const m = await c.cluster.MemberList({});
    c.close();
    expect(m.members[0].clientURLs).toEqual(['https://strata.example:2379']);
  });
});

describe('--cipher-suites and --tls-min-version', () => {
  let pki: Pki;
  const servers: TlsServer[] = [];
  beforeAll(() => {
    requireBuild();
    pki = makePki();
  });
  afterAll(async () => {
    for (const s of servers) await s.stop();
    pki?.cleanup();
  });
  const cert = () => ['--cert-file', pki.server.cert, '--key-file', pki.server.key];

  it("take Go's suite names for TLS 1.2 and leave TLS 1.3 on, as etcd", async () => {
    const server = await startTlsStrata(
      pki,
      (port) => [
        '--listen-client-urls',
        `https://127.0.0.1:${port}`,
        ...cert(),
        '--cipher-suites',
        'TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256',
      ],
      undefined,
    );
    servers.push(server);
    const cipher = await new Promise<string | undefined>((resolve) => {
      const sock = tls.connect(
        { host: '127.0.0.1', servername: 'localhost', port: server.port, ca: readFileSync(pki.ca), maxVersion: 'TLSv1.2' },
        () => {
          resolve(sock.getCipher().standardName);
          sock.end();
        },
      );
      sock.on('error', () => resolve(undefined));
    });
    expect(cipher).toBe('TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256');
    expect(await tlsGet(server.port, pki, undefined, { maxVersion: 'TLSv1.2', ciphers: 'ECDHE-ECDSA-AES256-GCM-SHA384' })).toBe('refused');
    expect(await tlsGet(server.port, pki, undefined, { minVersion: 'TLSv1.3' })).not.toBe('refused');
  });

  it('TLS1.3 as the minimum refuses a TLS 1.2 client', async () => {
    const server = await startTlsStrata(
      pki,
      (port) => ['--listen-client-urls', `https://127.0.0.1:${port}`, ...cert(), '--tls-min-version', 'TLS1.3'],
      undefined,
    );
    servers.push(server);
    expect(await tlsGet(server.port, pki, undefined, { maxVersion: 'TLSv1.2' })).toBe('refused');
    expect(await tlsGet(server.port, pki, undefined)).not.toBe('refused');
  });
});

describe('TLS start-up errors', () => {
  let pki: Pki;
  beforeAll(() => {
    requireBuild();
    pki = makePki();
  });
  afterAll(() => pki?.cleanup());

  it('stops with one clear line for a flag that cannot apply or a file that cannot be used', async () => {
    const port = await freePort();
    const https = ['--listen-client-urls', `https://127.0.0.1:${port}`];
    const cases: Array<[string[], number, RegExp]> = [
      [https, 2, /TLS key\/cert \(--cert-file, --key-file\) must be provided for client url https:/],
      [['--cert-file', pki.server.cert, '--key-file', pki.server.key], 2, /no client URL is https/],
      [['--datastore-certfile', pki.server.cert, '--datastore-keyfile', pki.server.key], 2, /SQLite/],
      [
        [...https, '--cert-file', '/nonexistent.pem', '--key-file', pki.server.key],
        1,
        /cannot read the TLS certificate file \/nonexistent\.pem/,
      ],
      [[...https, '--cert-file', pki.server.cert, '--key-file', pki.client('x').key], 1, /key values mismatch/],
    ];
    const dir = mkdtempSync(path.join(tmpdir(), 'strata-tls-err-'));
    try {
      for (const [args, code, message] of cases) {
        const r = await runCli(['--endpoint', `sqlite://${dir}/s.db`, ...args]);
        expect([args.join(' '), r.code, r.stderr.trim().split('\n').length]).toEqual([args.join(' '), code, 1]);
        expect(r.stderr).toMatch(message);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
