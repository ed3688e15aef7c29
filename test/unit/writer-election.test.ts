import { describe, expect, it } from 'vitest';
import { parseCli } from '../../src/cli';
import { ConfigError, parseConfig } from '../../src/config';
import { forwardAddress } from '../../src/rpc/forward/forwarding';
import { decodeAnswer, decodeWrite, encodeAnswer, encodeWrite, forwardSecret, frame, unframe } from '../../src/rpc/forward/wire';
import { electsWriter } from '../../src/writer-election-config';

describe('--writer-election', () => {
  it('defaults to off; on, off and auto are taken; anything else is a configuration error', () => {
    expect(parseConfig({}).writerElection).toBe('off');
    const mysql = 'mysql://root@tcp(127.0.0.1:3306)/db';
    for (const mode of ['on', 'off', 'auto', 'ON'] as const) {
      expect(parseConfig({ endpoint: mysql, writerElection: mode }).writerElection).toBe(mode.toLowerCase());
    }
    expect(() => parseConfig({ endpoint: mysql, writerElection: 'yes' })).toThrow(ConfigError);
  });

  it('on cannot take effect on SQLite or PostgreSQL: a start-up error; auto and off are accepted there', () => {
    for (const endpoint of ['sqlite://./x.db', 'postgres://u@h/db']) {
      expect(() => parseConfig({ endpoint, writerElection: 'on' })).toThrow(/needs a MySQL, MariaDB or Galera endpoint/);
      expect(parseConfig({ endpoint, writerElection: 'auto' }).writerElection).toBe('auto');
    }
    expect(parseConfig({ endpoint: 'galera://root@tcp(127.0.0.1:3307)/db', writerElection: 'on' }).writerElection).toBe('on');
  });

  it('is a flag and an environment variable', () => {
    const r = parseCli(['--endpoint', 'mysql://root@tcp(h:3306)/db', '--writer-election', 'on'], {}, '0.0.0');
    expect(r.kind === 'run' && r.config.writerElection).toBe('on');
    const e = parseCli(['--endpoint', 'mysql://root@tcp(h:3306)/db'], { STRATA_WRITER_ELECTION: 'auto' }, '0.0.0');
    expect(e.kind === 'run' && e.config.writerElection).toBe('auto');
  });

  it('auto elects on Galera only', () => {
    expect(['galera', 'mysql', 'mariadb', 'postgres', 'sqlite'].map((engine) => electsWriter('auto', engine))).toEqual([
      true,
      false,
      false,
      false,
      false,
    ]);
    expect([electsWriter('on', 'mysql'), electsWriter('off', 'galera')]).toEqual([true, false]);
  });
});

describe('forwarding wire', () => {
  it('carries a request and its answer exactly: bytes, bigint lease ids, credentials', () => {
    const w = {
      op: 'put' as const,
      req: { key: Buffer.from('k'), value: Buffer.alloc(3, 1), lease: 7n, prev_kv: true },
      who: { kind: 'cert' as const, user: 'u' },
    };
    const back = decodeWrite(encodeWrite(w as never));
    expect(back).toEqual(w);
    expect(Buffer.isBuffer((back.req as { key: Buffer }).key)).toBe(true);
    expect(decodeAnswer(encodeAnswer({ kind: 'error', code: 14, message: 'etcdserver: request timed out' }))).toEqual({
      kind: 'error',
      code: 14,
      message: 'etcdserver: request timed out',
    });
  });

  it('carries a deadline as the time left, so the two clocks need not agree', () => {
    const w = { op: 'deleteRange' as const, req: { key: Buffer.from('a'), range_end: Buffer.alloc(0) }, who: { kind: 'none' as const } };
    const back = decodeWrite(encodeWrite({ ...w, deadline: Date.now() + 5_000 } as never));
    expect(back.deadline! - Date.now()).toBeGreaterThan(4_000);
    expect(back.deadline! - Date.now()).toBeLessThanOrEqual(5_000);
    expect('deadline' in decodeWrite(encodeWrite(w as never))).toBe(false);
  });

  it('frames several messages as one and back; a truncated frame is refused', () => {
    const parts = [Buffer.from('a'), Buffer.alloc(0), Buffer.alloc(70_000, 2)];
    expect(unframe(frame(parts))).toEqual(parts);
    expect(unframe(Buffer.alloc(0))).toEqual([]);
    expect(() => unframe(frame(parts).subarray(0, 10))).toThrow(/truncated/);
  });

  it('derives a secret that depends on the database secret and never equals it', () => {
    const a = forwardSecret(Buffer.alloc(32, 1));
    expect(a).toMatch(/^[0-9a-f]{64}$/);
    expect(forwardSecret(Buffer.alloc(32, 2))).not.toBe(a);
    expect(a).not.toContain(Buffer.alloc(32, 1).toString('hex'));
  });

  it('advertises the first plaintext client URL, none when there is only TLS or a socket', () => {
    expect(forwardAddress(['unix:///s.sock', 'http://10.0.0.1:2379', 'http://h:1'])).toBe('10.0.0.1:2379');
    expect(forwardAddress(['https://h:2379', 'unix:///s'])).toBeUndefined();
  });
});
