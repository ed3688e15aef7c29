import { describe, expect, it } from 'vitest';
import { parseCli } from '../../src/cli';
import { parseConfig } from '../../src/config';
import { formatLine } from '../../src/ops/text-log';

describe('operations flags', () => {
  it('defaults: 2 GiB quota, JSON logs, 100 ms slow requests, 1 s slow SQL, a 2 minute connect wait', () => {
    expect(parseConfig({}).ops).toMatchObject({
      quotaBackendBytes: 2 * 1024 ** 3,
      logFormat: 'json',
      slowRequestMs: 100,
      slowSqlMs: 1000,
      datastoreConnectTimeoutMs: 120_000,
    });
  });

  it('--quota-backend-bytes as etcd: 0 is the default, negative disables', () => {
    expect(parseConfig({ quotaBackendBytes: '0' }).ops.quotaBackendBytes).toBe(2 * 1024 ** 3);
    expect(parseConfig({ quotaBackendBytes: '16384' }).ops.quotaBackendBytes).toBe(16384);
    expect(parseConfig({ quotaBackendBytes: '-1' }).ops.quotaBackendBytes).toBe(0);
    expect(() => parseConfig({ quotaBackendBytes: '2GB' })).toThrow(/quota-backend-bytes/);
  });

  it('thresholds of 0 disable; a bad format is refused', () => {
    expect(parseConfig({ slowRequestThreshold: '0', slowSqlThreshold: '0s' }).ops).toMatchObject({ slowRequestMs: 0, slowSqlMs: 0 });
    expect(parseConfig({ slowSqlThreshold: '250ms', datastoreConnectTimeout: '10s' }).ops).toMatchObject({
      slowSqlMs: 250,
      datastoreConnectTimeoutMs: 10_000,
    });
    expect(() => parseConfig({ logFormat: 'pretty' })).toThrow(/log-format/);
  });

  it('the flags and STRATA_* variables reach the config', () => {
    const r = parseCli(
      ['--log-format', 'text', '--quota-backend-bytes', '1000', '--auto-compaction-mode', 'revision', '--auto-compaction-retention', '10'],
      { STRATA_SLOW_SQL_THRESHOLD: '2s' },
      '0',
    );
    expect(r.kind).toBe('run');
    if (r.kind !== 'run') return;
    expect(r.config.ops).toMatchObject({
      logFormat: 'text',
      quotaBackendBytes: 1000,
      slowSqlMs: 2000,
      autoCompaction: { mode: 'revision', retention: 10 },
    });
  });
});

describe('text log lines', () => {
  it('one plain line: time, level, component, message, fields; an error by its message only', () => {
    const line = formatLine(
      JSON.stringify({
        level: 40,
        time: Date.UTC(2026, 0, 2, 3, 4, 5, 6),
        app: 'strata',
        component: 'sql',
        kind: 'write',
        ms: 12,
        reason: 'connect ECONNREFUSED 127.0.0.1:5432',
        err: { type: 'Error', message: 'boom', stack: 'Error: boom\n    at x' },
        msg: 'slow SQL',
      }),
    );
    expect(line).toBe(
      '2026-01-02T03:04:05.006Z WARN  [sql] slow SQL kind=write ms=12 reason="connect ECONNREFUSED 127.0.0.1:5432" err="Error: boom"\n',
    );
    expect(formatLine('{"level":30,"time":0,"msg":"strata serving","revision":1}')).toBe(
      '1970-01-01T00:00:00.000Z INFO  strata serving revision=1\n',
    );
  });
});
