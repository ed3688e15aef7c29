import { describe, expect, it } from 'vitest';
import { parseCli } from '../../src/cli';
import { ConfigError, parseConfig, parseDuration, parseEndpoint, parseListenAddress, type Endpoint } from '../../src/config';
import { redact } from '../../src/endpoint';

const sqlitePath = (e: Endpoint): string | undefined => (e.kind === 'sqlite' ? e.path : undefined);

describe('parseConfig', () => {
  it('has etcd-like defaults', () => {
    const c = parseConfig({});
    expect(c.listen).toEqual([{ url: 'http://127.0.0.1:2379', tls: false, at: { kind: 'tcp', host: '127.0.0.1', port: 2379 } }]);
    expect([c.tls, c.advertiseClientUrls, c.metricsListen]).toEqual([undefined, undefined, []]);
    expect(c.endpoint).toEqual({ kind: 'sqlite', path: './db/state.db', synchronous: 'NORMAL', busyTimeoutMs: 30000 });
    expect(c.maxRequestBytes).toBe(1.5 * 1024 * 1024);
    expect(c.maxTxnOps).toBe(128);
    expect(c.watchProgressNotifyIntervalMs).toBe(5000);
    const [maj, min, patch] = c.emulatedEtcdVersion.split('.').map(Number);
    // kube-apiserver enables RequestWatchProgress from 3.5.13 on.
    expect(maj * 1e6 + min * 1e3 + patch).toBeGreaterThanOrEqual(3_005_013);
  });

  it('takes --initial-advertise-peer-urls, etcd’s default when absent', () => {
    expect(parseConfig({}).peerUrls).toEqual(['http://localhost:2380']);
    expect(parseConfig({ initialAdvertisePeerUrls: 'http://10.0.0.1:2380, https://h:2380/' }).peerUrls).toEqual([
      'http://10.0.0.1:2380',
      'https://h:2380/',
    ]);
    for (const bad of ['localhost:2380', 'unix:///p.sock', 'http://a:1,', 'http://a/b'])
      expect(() => parseConfig({ initialAdvertisePeerUrls: bad })).toThrow(ConfigError);
  });

  it('parses listen addresses', () => {
    expect(parseListenAddress(':2379')).toEqual({ kind: 'tcp', host: '0.0.0.0', port: 2379 });
    expect(parseListenAddress('http://127.0.0.1:1234')).toEqual({ kind: 'tcp', host: '127.0.0.1', port: 1234 });
    expect(parseListenAddress('[::1]:2379')).toEqual({ kind: 'tcp', host: '::1', port: 2379 });
    expect(parseListenAddress('unix:///run/k.sock')).toEqual({ kind: 'unix', path: '/run/k.sock' });
    for (const bad of ['2379', 'host:99999', 'unix://', 'a b:1']) expect(() => parseListenAddress(bad)).toThrow(ConfigError);
  });

  it('parses sqlite endpoints, kine parameters included', () => {
    expect(sqlitePath(parseEndpoint('sqlite:///var/lib/s.db'))).toBe('/var/lib/s.db');
    const e = parseEndpoint('sqlite://./db/state.db?_journal=WAL&cache=shared&_busy_timeout=5000&_synchronous=FULL');
    expect(e).toEqual({ kind: 'sqlite', path: './db/state.db', synchronous: 'FULL', busyTimeoutMs: 5000 });
    expect(parseEndpoint('sqlite://x.db?_synchronous=2')).toMatchObject({ synchronous: 'FULL' });
  });

  it('parses postgres endpoints as libpq URLs', () => {
    expect(parseEndpoint('postgres://u:p%40ss@db.example:6432/Kube?sslmode=verify-full&sslrootcert=/ca.pem')).toEqual({
      kind: 'postgres',
      engine: 'postgres',
      host: 'db.example',
      port: 6432,
      hosts: [{ host: 'db.example', port: 6432 }],
      targetSessionAttrs: 'any',
      socketPath: undefined,
      user: 'u',
      password: 'p@ss',
      database: 'kube',
      tls: 'verify-full',
      params: { sslmode: 'verify-full', sslrootcert: '/ca.pem' },
    });
    expect(parseEndpoint('postgresql://localhost/')).toMatchObject({ port: 5432, user: 'postgres', database: 'kubernetes', tls: 'prefer' });
    expect(parseEndpoint('postgres://u@[::1]:5433/db?sslmode=disable')).toMatchObject({ host: '::1', port: 5433, tls: 'disable' });
    expect(parseEndpoint('postgres:///db?host=/var/run/postgresql')).toMatchObject({ socketPath: '/var/run/postgresql' });
  });

  it('parses mysql endpoints in the go-sql-driver (k3s) form and the URL form', () => {
    expect(parseEndpoint('mysql://root:s3cr:t@tcp(10.0.0.5:3307)/k3s?tls=skip-verify')).toEqual({
      kind: 'mysql',
      engine: 'mysql',
      host: '10.0.0.5',
      port: 3307,
      hosts: [{ host: '10.0.0.5', port: 3307 }],
      targetSessionAttrs: 'any',
      socketPath: undefined,
      user: 'root',
      password: 's3cr:t',
      database: 'k3s',
      tls: 'require',
      params: { tls: 'skip-verify' },
    });
    expect(parseEndpoint('mysql://app:pw@db:3306/strata')).toMatchObject({
      host: 'db',
      port: 3306,
      user: 'app',
      database: 'strata',
      tls: 'disable',
    });
    expect(parseEndpoint('mysql://root@unix(/run/mysqld/mysqld.sock)/k')).toMatchObject({
      socketPath: '/run/mysqld/mysqld.sock',
      database: 'k',
    });
    expect(parseEndpoint('mysql://root@tcp(127.0.0.1)/')).toMatchObject({ port: 3306, database: 'kubernetes' });
  });

  it('keeps passwords out of messages', () => {
    expect(redact('postgres://u:hunter2@h/db')).toBe('postgres://u:***@h/db');
    expect(() => parseEndpoint('postgres://u:hunter2@h:99999/db')).toThrow(/postgres:\/\/u:\*\*\*@h:99999\/db/);
    expect(() => parseEndpoint('mysql://u:hunter2@tcp(h:1)/db?tls=maybe')).toThrow(/tls must be/);
    expect(() => parseEndpoint('postgres://u@h/bad;name')).toThrow(/database name/);
  });

  it('rejects bad endpoints with one clear message', () => {
    expect(() => parseEndpoint('notaurl')).toThrow(/invalid datastore endpoint "notaurl"/);
    expect(() => parseEndpoint('bogus://x')).toThrow(/unknown scheme "bogus"/);
    expect(() => parseEndpoint('sqlite://')).toThrow(/no database file path/);
    expect(() => parseEndpoint('sqlite://x.db?_synchronous=SOMETIMES')).toThrow(/_synchronous/);
  });

  it('parses Go-style durations', () => {
    expect(parseDuration('5s', 'x')).toBe(5000);
    expect(parseDuration('1m30s', 'x')).toBe(90_000);
    expect(parseDuration('250ms', 'x')).toBe(250);
    expect(parseDuration('2', 'x')).toBe(2000);
    for (const bad of ['', 's', '5x', '-1s', '0s']) expect(() => parseDuration(bad, 'x')).toThrow(ConfigError);
  });
});

describe('parseCli', () => {
  const run = (argv: string[], env: NodeJS.ProcessEnv = {}) => parseCli(argv, env, '0.0.0');

  it('reads flags', () => {
    const r = run(['--listen-address', '127.0.0.1:1', '--endpoint', 'sqlite:///a.db', '--max-txn-ops', '5']);
    expect(r.kind).toBe('run');
    if (r.kind === 'run') {
      expect(r.config.listen.map((u) => u.at)).toEqual([{ kind: 'tcp', host: '127.0.0.1', port: 1 }]);
      expect(sqlitePath(r.config.endpoint)).toBe('/a.db');
      expect(r.config.maxTxnOps).toBe(5);
    }
  });

  it('falls back to STRATA_* variables, flags win', () => {
    const env = { STRATA_ENDPOINT: 'sqlite:///env.db', STRATA_LOG_LEVEL: 'debug', STRATA_LISTEN_ADDRESS: ':9' };
    const r = run([], env);
    expect(r.kind === 'run' && [sqlitePath(r.config.endpoint), r.config.logLevel, r.config.listen[0].at]).toEqual([
      '/env.db',
      'debug',
      { kind: 'tcp', host: '0.0.0.0', port: 9 },
    ]);
    const f = run(['--endpoint', 'sqlite:///flag.db'], env);
    expect(f.kind === 'run' && sqlitePath(f.config.endpoint)).toBe('/flag.db');
  });

  it('reads the database TLS, pool and poll flags, with k3s aliases', () => {
    const r = run([
      '--endpoint',
      'postgres://localhost/db',
      '--datastore-cafile',
      '/ca',
      '--datastore-certfile',
      '/c',
      '--datastore-keyfile',
      '/k',
      '--skip-verify',
      '--datastore-max-open-connections',
      '3',
      '--poll-interval',
      '50ms',
    ]);
    expect(r.kind === 'run' && r.config.datastore).toEqual({
      tls: { caFile: '/ca', certFile: '/c', keyFile: '/k', skipVerify: true },
      maxOpenConnections: 3,
      connectionMaxIdleMs: 120_000,
      pollIntervalMs: 50,
    });
    const e = run([], { STRATA_ENDPOINT: 'mysql://root@tcp(h:1)/k', STRATA_DATASTORE_CAFILE: '/ca', STRATA_POLL_INTERVAL: '1s' });
    expect(e.kind === 'run' && [e.config.datastore.tls.caFile, e.config.datastore.pollIntervalMs]).toEqual(['/ca', 1000]);
    expect(run(['--datastore-max-open-connections', '0']).kind).toBe('exit');
  });

  it('takes --datastore-pipelined-commits (off unless given), from its flag or its environment variable', () => {
    const off = run([]);
    expect(off.kind === 'run' && off.config.datastore.pipelinedCommits).toBeFalsy();
    const on = run(['--datastore-pipelined-commits']);
    expect(on.kind === 'run' && on.config.datastore.pipelinedCommits).toBe(true);
    const env = run([], { STRATA_DATASTORE_PIPELINED_COMMITS: '1' });
    expect(env.kind === 'run' && env.config.datastore.pipelinedCommits).toBe(true);
  });

  it('takes --datastore-endpoint as an alias of --endpoint', () => {
    const r = run(['--datastore-endpoint', 'sqlite:///k3s.db']);
    expect(r.kind === 'run' && sqlitePath(r.config.endpoint)).toBe('/k3s.db');
    const e = run([], { STRATA_DATASTORE_ENDPOINT: 'sqlite:///k3s-env.db' });
    expect(e.kind === 'run' && sqlitePath(e.config.endpoint)).toBe('/k3s-env.db');
  });

  it('answers a bad flag or value with one line and exit code 2', () => {
    for (const argv of [
      ['--no-such-flag'],
      ['--endpoint', 'bogus://x'],
      ['--listen-address', 'nope'],
      ['--log-level', 'loud'],
      ['extra'],
    ]) {
      const r = run(argv);
      expect(r.kind).toBe('exit');
      if (r.kind === 'exit') {
        expect(r.code).toBe(2);
        expect(r.output.trim().split('\n')).toHaveLength(1);
        expect(r.output).toMatch(/^error: /);
      }
    }
  });

  it('prints help with exit code 0', () => {
    const r = run(['--help']);
    expect(r.kind === 'exit' && r.code).toBe(0);
    expect(r.kind === 'exit' && r.output).toMatch(/--datastore-endpoint/);
  });
});
