/** What the space quota measures, on every backend: the database's own size of strata's data, growing with what is written. */
import { randomBytes } from 'node:crypto';
import { expect, it } from 'vitest';
import { forEachBackend } from '../helpers/targets';
import { put, storePerSuite } from './helpers';

forEachBackend('quota size', (backend) => {
  const fx = storePerSuite(backend, 'quota');

  it('is the real size of the database and grows with writes', async () => {
    const before = await fx.dialect.quotaBytes();
    expect(before).toBeGreaterThan(0);
    // Incompressible values (PostgreSQL compresses TOASTed values).
    for (let i = 0; i < 300; i++) await fx.store.put(put(`k${i}`, randomBytes(2000).toString('hex')));
    const after = await fx.dialect.quotaBytes();
    if (backend.name !== 'mysql') expect(after).toBeGreaterThan(before + 300 * 4000 * 0.5);
    // MySQL's information_schema sizes are InnoDB statistics, refreshed lazily.
    else expect(after).toBeGreaterThanOrEqual(before);
    // Between two measurements the quota counts what this instance wrote.
    expect(fx.store.maintenance.quota().sizeBytes).toBeGreaterThan(0);
  });
});
