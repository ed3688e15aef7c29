/** Start-up load reports progress: with the report interval at 0 every chunk is logged. */
import pino from 'pino';
import { expect, it } from 'vitest';
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
    const loaded = await loadSnapshot(fx.dialect, async () => marks, marks, log, 0);
    expect(loaded.snapshot.rows.length).toBe(5);
    expect(lines.find((l) => l.msg === 'loading the log')).toMatchObject({ rows: 5, of: marks.revision });
  });
});
