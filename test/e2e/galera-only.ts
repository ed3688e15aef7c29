/**
 * Imported first by a Galera suite file: every suite the file imports after it runs on the
 * Galera backend alone, on one three-node cluster started once for the file and stopped after it.
 */
import { afterAll, beforeAll } from 'vitest';
import { forceBackends, stopGalera, useGalera } from '../helpers/targets';

forceBackends(['galera']);
// Started here, before the first suite's own hook (60 s): on a loaded CI machine the bootstrap and
// three state transfers can take longer than that.
beforeAll(async () => void (await useGalera()), 400_000);
afterAll(stopGalera, 60_000);
