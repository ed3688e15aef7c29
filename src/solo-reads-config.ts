/** --solo-reads: whether a lone instance answers linearizable reads from memory under the solo lease (src/log/solo.ts). */
import { ConfigError } from './config-error';
import type { Endpoint } from './endpoint';
import type { WriterElectionMode } from './writer-election-config';
import { SOLO_ENGINES } from './log/solo';

export interface SoloReadsOptions {
  /** undefined: on wherever it can take effect (PostgreSQL, MySQL, MariaDB without writer election). */
  on: boolean | undefined;
  /** How long an instance must have seen no other instance at work before it takes the lease. */
  quietMs: number;
}

export function parseSoloReads(value: string | undefined, endpoint: Endpoint, election: WriterElectionMode): boolean | undefined {
  if (value === undefined) return undefined;
  const mode = value.toLowerCase();
  if (mode !== 'on' && mode !== 'off') throw new ConfigError(`invalid --solo-reads "${value}": on or off`);
  if (mode === 'off') return false;
  if (endpoint.kind === 'sqlite' || !SOLO_ENGINES.includes(endpoint.engine)) {
    throw new ConfigError('--solo-reads=on needs a PostgreSQL, MySQL or MariaDB endpoint (SQLite checks its data_version instead)');
  }
  if (election === 'on') throw new ConfigError('--solo-reads=on cannot take effect with --writer-election=on');
  return true;
}
