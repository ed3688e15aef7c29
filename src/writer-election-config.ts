/** --writer-election: whether one instance, elected through the database, commits for the others. */
import { ConfigError } from './config-error';
import type { Endpoint } from './endpoint';

/** on: elect and forward; off: every instance commits its own writes; auto: on for Galera only. */
export type WriterElectionMode = 'on' | 'off' | 'auto';

const MODES: readonly WriterElectionMode[] = ['on', 'off', 'auto'];

export function parseWriterElection(value: string, endpoint: Endpoint): WriterElectionMode {
  const mode = value.toLowerCase() as WriterElectionMode;
  if (!MODES.includes(mode)) throw new ConfigError(`invalid --writer-election "${value}": one of on, off, auto`);
  // The lease row lives where the MySQL dialect keeps it; elsewhere "on" could not take effect.
  if (mode === 'on' && endpoint.kind !== 'mysql') {
    throw new ConfigError('--writer-election=on needs a MySQL, MariaDB or Galera endpoint (mysql://, galera://)');
  }
  return mode;
}

/** Whether election runs on a database of this engine (auto: only where one hot fence row is the bottleneck, Galera). */
export function electsWriter(mode: WriterElectionMode, engine: string): boolean {
  return mode === 'on' || (mode === 'auto' && engine === 'galera');
}
