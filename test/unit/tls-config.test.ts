import { describe, expect, it } from 'vitest';
import { parseCli } from '../../src/cli';
import { defaultAdvertiseUrls, parseListenUrls } from '../../src/listen-urls';

const run = (argv: string[], env: NodeJS.ProcessEnv = {}) => parseCli(argv, env, '0.0.0');
const config = (argv: string[], env: NodeJS.ProcessEnv = {}) => {
  const r = run(argv, env);
  if (r.kind !== 'run') throw new Error(`expected a config, got: ${r.output}`);
  return r.config;
};
const refused = (argv: string[], env: NodeJS.ProcessEnv = {}): string => {
  const r = run(argv, env);
  if (r.kind !== 'exit' || r.code !== 2) throw new Error(`expected exit 2 for ${argv.join(' ')}`);
  expect(r.output.trim().split('\n')).toHaveLength(1);
  return r.output;
};
const TLS = ['--cert-file', '/s.pem', '--key-file', '/s.key'];

describe('listen URLs', () => {
  it('parses several, with schemes choosing TLS', () => {
    expect(parseListenUrls('https://0.0.0.0:2379,http://127.0.0.1:1,[::1]:2,unix:///run/s.sock,unixs:///run/t.sock', 'x')).toEqual([
      { url: 'https://0.0.0.0:2379', tls: true, at: { kind: 'tcp', host: '0.0.0.0', port: 2379 } },
      { url: 'http://127.0.0.1:1', tls: false, at: { kind: 'tcp', host: '127.0.0.1', port: 1 } },
      { url: '[::1]:2', tls: false, at: { kind: 'tcp', host: '::1', port: 2 } },
      { url: 'unix:///run/s.sock', tls: false, at: { kind: 'unix', path: '/run/s.sock' } },
      { url: 'unixs:///run/t.sock', tls: true, at: { kind: 'unix', path: '/run/t.sock' } },
    ]);
    expect(() => parseListenUrls('a:1,a:1', 'x')).toThrow(/listed twice/);
    expect(() => parseListenUrls('ftp://a:1', 'x')).toThrow(/scheme/);
    expect(() => parseListenUrls('a:1,', 'x')).toThrow(/empty/);
  });

  it('takes --listen-address as the older name of --listen-client-urls', () => {
    expect(config(['--listen-address', '127.0.0.1:5']).listen[0].at).toEqual({ kind: 'tcp', host: '127.0.0.1', port: 5 });
    expect(config(['--listen-client-urls', 'http://127.0.0.1:6,unix:///s']).listen).toHaveLength(2);
    expect(config([], { STRATA_LISTEN_CLIENT_URLS: 'http://127.0.0.1:7' }).listen[0].at).toMatchObject({ port: 7 });
    expect(refused(['--listen-address', '127.0.0.1:5', '--listen-client-urls', 'http://127.0.0.1:6'])).toMatch(/older name/);
  });

  it('advertises the bound URLs with an every-interface host replaced', () => {
    expect(defaultAdvertiseUrls(['https://0.0.0.0:2379', 'http://127.0.0.1:1', 'unix:///s', 'http://[::]:3'], 'node1')).toEqual({
      urls: ['https://node1:2379', 'http://127.0.0.1:1', 'unix:///s', 'http://node1:3'],
      replaced: true,
    });
    expect(config(['--advertise-client-urls', 'https://a:1,unix:///s']).advertiseClientUrls).toEqual(['https://a:1', 'unix:///s']);
    expect(refused(['--advertise-client-urls', 'a:1'])).toMatch(/not an http/);
  });

  it('serves --listen-metrics-urls in plaintext only', () => {
    expect(config(['--listen-metrics-urls', 'http://127.0.0.1:9,unix:///m']).metricsListen).toEqual([
      { kind: 'tcp', host: '127.0.0.1', port: 9 },
      { kind: 'unix', path: '/m' },
    ]);
    expect(refused(['--listen-metrics-urls', 'https://127.0.0.1:9'])).toMatch(/plaintext only/);
  });
});

describe('server TLS flags', () => {
  it("reads etcd's flags, kine's aliases and Go's cipher names", () => {
    const c = config([
      '--listen-client-urls',
      'https://127.0.0.1:1',
      '--server-cert-file',
      '/s.pem',
      '--server-key-file',
      '/s.key',
      '--trusted-ca-file',
      '/ca.pem',
      '--client-cert-auth',
      '--client-crl-file',
      '/crl.pem',
      '--cipher-suites',
      'TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305',
    ]);
    expect(c.tls).toEqual({
      certFile: '/s.pem',
      keyFile: '/s.key',
      trustedCaFile: '/ca.pem',
      clientCertAuth: true,
      crlFile: '/crl.pem',
      ciphers: 'ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-CHACHA20-POLY1305',
      minVersion: 'TLSv1.2',
    });
    const e = config(['--listen-client-urls', 'https://127.0.0.1:1', ...TLS, '--tls-min-version', 'TLS1.3'], {
      STRATA_TRUSTED_CA_FILE: '/ca',
      STRATA_CLIENT_CERT_AUTH: 'false',
    });
    expect(e.tls).toMatchObject({ minVersion: 'TLSv1.3', trustedCaFile: '/ca', clientCertAuth: false });
    expect(
      config(['--listen-client-urls', 'unixs:///s', ...TLS, '--client-cert-auth=true', '--trusted-ca-file', '/ca']).tls?.clientCertAuth,
    ).toBe(true);
  });

  it('refuses every flag that cannot take effect, as a start-up error', () => {
    const https = ['--listen-client-urls', 'https://127.0.0.1:1'];
    expect(refused(https)).toMatch(/TLS key\/cert \(--cert-file, --key-file\) must be provided for client url https:\/\/127\.0\.0\.1:1/);
    expect(refused(TLS)).toMatch(/no client URL is https/);
    expect(refused(['--cert-file', '/s.pem', ...https])).toMatch(/give both/);
    for (const f of [
      ['--trusted-ca-file', '/ca'],
      ['--client-cert-auth'],
      ['--client-crl-file', '/c'],
      ['--cipher-suites', 'X'],
      ['--tls-min-version', 'TLS1.3'],
    ]) {
      expect(refused(f)).toMatch(/has no effect without --cert-file/);
    }
    expect(refused([...https, ...TLS, '--client-cert-auth'])).toMatch(/needs --trusted-ca-file/);
    expect(refused([...https, ...TLS, '--client-crl-file', '/c'])).toMatch(/needs --trusted-ca-file/);
    expect(refused([...https, ...TLS, '--cipher-suites', 'TLS_RSA_WITH_RC4_128_SHA'])).toMatch(
      /unexpected TLS cipher suite "TLS_RSA_WITH_RC4_128_SHA"/,
    );
    expect(refused([...https, ...TLS, '--cipher-suites', 'TLS_RSA_WITH_AES_128_GCM_SHA256', '--tls-min-version', 'TLS1.3'])).toMatch(
      /cipher suites cannot be configured when only TLS1.3 is enabled/,
    );
    expect(refused([...https, ...TLS, '--tls-min-version', 'TLS1.1'])).toMatch(/tls-min-version/);
    expect(refused([...https, ...TLS, '--server-cert-file', '/other.pem'])).toMatch(/same file/);
    expect(refused([...https, ...TLS, '--client-cert-auth=maybe', '--trusted-ca-file', '/ca'])).toMatch(/true or false/);
  });
});

describe('database TLS flags', () => {
  it('are --datastore-cafile/-certfile/-keyfile; --ca-file is refused with both meanings named', () => {
    expect(refused(['--ca-file', '/ca'])).toMatch(/--datastore-cafile .* --trusted-ca-file/);
    expect(refused([], { STRATA_CA_FILE: '/ca' })).toMatch(/ambiguous/);
    expect(refused(['--datastore-cafile', '/ca'])).toMatch(
      /--datastore-cafile applies to PostgreSQL and MySQL only; the endpoint is SQLite/,
    );
    expect(refused(['--skip-verify'])).toMatch(/SQLite/);
    const pg = ['--endpoint', 'postgres://localhost/db'];
    expect(refused([...pg, '--datastore-certfile', '/c'])).toMatch(/go together/);
    expect(config([...pg, '--datastore-cafile', '/ca']).datastore.tls.caFile).toBe('/ca');
    // --cert-file is the server's certificate now, never the database's.
    expect(refused([...pg, ...TLS])).toMatch(/no client URL is https/);
  });
});
