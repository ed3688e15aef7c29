import * as path from 'node:path';
import { haveTool, ETCD_BIN, startEtcd, startStrata, type Server } from './servers';

/**
 * The storage backends the conformance suite loops over. Each entry makes a fresh endpoint string
 * for one strata process; the PostgreSQL and MySQL entries join this list with their dialects.
 */
export interface Backend {
  name: string;
  /** Whether it can run here; a reason when it cannot. In CI an unavailable backend fails. */
  available(): string | undefined;
  /** The endpoint for one strata process whose scratch dir (removed by its cleanup) is `dataDir`. */
  endpoint(dataDir: string): string;
}

export const backends: Backend[] = [
  {
    name: 'sqlite',
    available: () => undefined,
    endpoint: (dataDir) => `sqlite://${path.join(dataDir, 'state.db')}`,
  },
];

/**
 * A conformance target: strata on a backend, or (STRATA_TEST_TARGET=etcd) the real etcd, which is
 * how the suite itself is checked against the reference.
 */
export interface Target {
  name: string;
  start(): Promise<Server>;
}

export function targets(): Target[] {
  if (process.env.STRATA_TEST_TARGET === 'etcd') {
    return haveTool(ETCD_BIN, 'etcd') ? [{ name: 'etcd', start: () => startEtcd() }] : [];
  }
  const out: Target[] = [];
  for (const b of backends) {
    const why = b.available();
    if (why) {
      if (process.env.CI === 'true') throw new Error(`backend ${b.name} unavailable in CI: ${why}`);
      // eslint-disable-next-line no-console
      console.warn(`SKIPPED backend ${b.name}: ${why}`);
      continue;
    }
    out.push({ name: b.name, start: () => startStrata({ endpoint: (dir) => b.endpoint(dir) }) });
  }
  return out;
}
