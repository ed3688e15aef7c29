import { describe, expect, it } from 'vitest';
import { parseCli } from '../../src/cli';
import { ConfigError, parseConfig, parseDuration, parseEndpoint, parseListenAddress } from '../../src/config';

describe('parseConfig', () => {
  it('has etcd-like defaults', () => {
    const c = parseConfig({});
    expect(c.listen).toEqual({ kind: 'tcp', host: '127.0.0.1', port: 2379 });
    expect(c.endpoint).toEqual({ kind: 'sqlite', path: './db/state.db', synchronous: 'NORMAL', busyTimeoutMs: 30000 });
    expect(c.maxRequestBytes).toBe(1.5 * 1024 * 1024);
    expect(c.maxTxnOps).toBe(128);
    expect(c.watchProgressNotifyIntervalMs).toBe(5000);
    const [maj, min, patch] = c.emulatedEtcdVersion.split('.').map(Number);
    // kube-apiserver enables RequestWatchProgress from 3.5.13 on.
    expect(maj * 1e6 + min * 1e3 + patch).toBeGreaterThanOrEqual(3_005_013);
  });

  it('parses listen addresses', () => {
    expect(parseListenAddress(':2379')).toEqual({ kind: 'tcp', host: '0.0.0.0', port: 2379 });
    expect(parseListenAddress('http://127.0.0.1:1234')).toEqual({ kind: 'tcp', host: '127.0.0.1', port: 1234 });
    expect(parseListenAddress('[::1]:2379')).toEqual({ kind: 'tcp', host: '::1', port: 2379 });
    expect(parseListenAddress('unix:///run/k.sock')).toEqual({ kind: 'unix', path: '/run/k.sock' });
    for (const bad of ['2379', 'host:99999', 'unix://', 'a b:1']) expect(() => parseListenAddress(bad)).toThrow(ConfigError);
  });

  it('parses sqlite endpoints, kine parameters included', () => {
    expect(parseEndpoint('sqlite:///var/lib/s.db').path).toBe('/var/lib/s.db');
    const e = parseEndpoint('sqlite://./db/state.db?_journal=WAL&cache=shared&_busy_timeout=5000&_synchronous=FULL');
    expect(e).toEqual({ kind: 'sqlite', path: './db/state.db', synchronous: 'FULL', busyTimeoutMs: 5000 });
    expect(parseEndpoint('sqlite://x.db?_synchronous=2').synchronous).toBe('FULL');
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
      expect(r.config.listen).toEqual({ kind: 'tcp', host: '127.0.0.1', port: 1 });
      expect(r.config.endpoint.path).toBe('/a.db');
      expect(r.config.maxTxnOps).toBe(5);
    }
  });

  it('falls back to STRATA_* variables, flags win', () => {
    const env = { STRATA_ENDPOINT: 'sqlite:///env.db', STRATA_LOG_LEVEL: 'debug', STRATA_LISTEN_ADDRESS: ':9' };
    const r = run([], env);
    expect(r.kind === 'run' && [r.config.endpoint.path, r.config.logLevel, r.config.listen]).toEqual([
      '/env.db', 'debug', { kind: 'tcp', host: '0.0.0.0', port: 9 },
    ]);
    const f = run(['--endpoint', 'sqlite:///flag.db'], env);
    expect(f.kind === 'run' && f.config.endpoint.path).toBe('/flag.db');
  });

  it('takes --datastore-endpoint as an alias of --endpoint', () => {
    const r = run(['--datastore-endpoint', 'sqlite:///k3s.db']);
    expect(r.kind === 'run' && r.config.endpoint.path).toBe('/k3s.db');
    const e = run([], { STRATA_DATASTORE_ENDPOINT: 'sqlite:///k3s-env.db' });
    expect(e.kind === 'run' && e.config.endpoint.path).toBe('/k3s-env.db');
  });

  it('answers a bad flag or value with one line and exit code 2', () => {
    for (const argv of [['--no-such-flag'], ['--endpoint', 'bogus://x'], ['--listen-address', 'nope'], ['--log-level', 'loud'], ['extra']]) {
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
