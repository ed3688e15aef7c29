/**
 * Imported first by a Galera suite file: every suite the file imports after it runs on the
 * Galera backend alone, on one three-node cluster started once for the file and stopped after it.
 */
import { afterAll } from 'vitest';
import { forceBackends, stopGalera } from '../helpers/targets';

forceBackends(['galera']);
afterAll(stopGalera, 60_000);
