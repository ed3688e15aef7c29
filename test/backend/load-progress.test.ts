/** Start-up load reports progress: with the report interval at 0 every chunk is logged. */
import pino from 'pino';
import { expect, it } from 'vitest';
import type { LogRow } from '../../src/dialect/dialect';
import { loadSnapshot } from '../../src/log/loader';
import { marksFrom } from '../../src/log/meta';
import { MARKS } from '../../src/log/meta';
import { forEachBackend } from '../helpers/targets';
import { put, storePerSuite } from './helpers';

forEachBackend('load progress', (backend) => {
  const fx = storePerSuite(backend, 'progress');

  it('logs "loading the log" with rows and revisions', async () => {
    for (let i = 0; i < 5; i++) await fx.store.put(put(`k${i}`, 'v'));
    const lines: Array<Record<string, unknown>> = [];
    const log = pino({ level: 'info' }, { write: (s: string) => void lines.push(JSON.parse(s) as Record<string, unknown>) });
    const marks = marksFrom(await fx.dialect.readMeta(MARKS));
    const rows: LogRow[] = [];
    const loaded = await loadSnapshot(
      fx.dialect,
      async () => marks,
      marks,
      () => ({ add: (rs: LogRow[]) => void rows.push(...rs) }),
      log,
      0,
    );
    expect(loaded.rows).toBe(5);
    expect(rows.map((r) => r.key.toString())).toEqual(['k0', 'k1', 'k2', 'k3', 'k4']);
    expect(lines.find((l) => l.msg === 'loading the log')).toMatchObject({ rows: 5, of: marks.revision });
  });
});
