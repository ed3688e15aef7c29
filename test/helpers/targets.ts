import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { haveTool, ETCD_BIN, startEtcd, startStrata, type Server } from './servers';

/** The test servers; CI runs them on this machine (see .ci/run), elsewhere override these. */
export const PG_BASE = process.env.STRATA_TEST_POSTGRES ?? 'postgres://postgres@127.0.0.1:5432';
export const MYSQL_BASE = process.env.STRATA_TEST_MYSQL ?? 'mysql://root@tcp(127.0.0.1:3306)';

/** A database name of our own for one scratch dir: strata creates it, `dropDatabase` removes it. */
export function databaseFor(dataDir: string): string {
  return path.basename(dataDir).toLowerCase().replace(/[^a-z0-9]/g, '_');
}

function mysqlArgs(): string[] {
  const m = /^mysql:\/\/([^:@]*)(?::([^@]*))?@tcp\(([^:)]+)(?::(\d+))?\)/.exec(MYSQL_BASE);
  if (!m) throw new Error(`STRATA_TEST_MYSQL must look like mysql://user[:pass]@tcp(host:port), got ${MYSQL_BASE}`);
  return [`-u${m[1]}`, ...(m[2] ? [`-p${m[2]}`] : []), `-h${m[3]}`, `-P${m[4] ?? '3306'}`];
}

/** Runs one SQL statement with the server's own CLI; returns an error text or undefined. */
function adminSql(kind: 'postgres' | 'mysql', sql: string): string | undefined {
  const r =
    kind === 'postgres'
      ? spawnSync('psql', [`${PG_BASE}/postgres`, '-v', 'ON_ERROR_STOP=1', '-qAtc', sql], { encoding: 'utf8', timeout: 15_000 })
      : spawnSync('mysql', [...mysqlArgs(), '-e', sql], { encoding: 'utf8', timeout: 15_000 });
  if (r.error) return `${kind === 'postgres' ? 'psql' : 'mysql'} CLI: ${r.error.message}`;
  if (r.status !== 0) return (r.stderr || r.stdout).trim();
  return undefined;
}

export function dropDatabase(kind: 'postgres' | 'mysql', database: string): void {
  const err =
    kind === 'postgres'
      ? adminSql('postgres', `DROP DATABASE IF EXISTS "${database}" WITH (FORCE)`)
      : adminSql('mysql', `DROP DATABASE IF EXISTS \`${database}\``);
  if (err) throw new Error(`cannot drop test database ${database}: ${err}`);
}

const reachable = (kind: 'postgres' | 'mysql', base: string) => (): string | undefined => {
  const err = adminSql(kind, 'SELECT 1');
  return err ? `${kind} at ${base} is not reachable (${err}); start it or set ${kind === 'postgres' ? 'STRATA_TEST_POSTGRES' : 'STRATA_TEST_MYSQL'}` : undefined;
};

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
  /** Removes what `endpoint(dataDir)` created outside the scratch dir (a server's database). */
  drop(dataDir: string): void;
}

export const backends: Backend[] = [
  {
    name: 'sqlite',
    available: () => undefined,
    endpoint: (dataDir) => `sqlite://${path.join(dataDir, 'state.db')}`,
    drop: () => undefined,
  },
  {
    name: 'postgres',
    available: reachable('postgres', PG_BASE),
    endpoint: (dataDir) => `${PG_BASE}/${databaseFor(dataDir)}?sslmode=disable`,
    drop: (dataDir) => dropDatabase('postgres', databaseFor(dataDir)),
  },
  {
    name: 'mysql',
    available: reachable('mysql', MYSQL_BASE),
    endpoint: (dataDir) => `${MYSQL_BASE}/${databaseFor(dataDir)}`,
    drop: (dataDir) => dropDatabase('mysql', databaseFor(dataDir)),
  },
];

/** The backends usable here; in CI an unreachable one fails the run instead of being skipped. */
export function availableBackends(): Backend[] {
  const out: Backend[] = [];
  for (const b of backends) {
    const why = b.available();
    if (why) {
      if (process.env.CI === 'true') throw new Error(`backend ${b.name} unavailable in CI: ${why}`);
      // eslint-disable-next-line no-console
      console.warn(`SKIPPED backend ${b.name}: ${why}`);
      continue;
    }
    out.push(b);
  }
  return out;
}

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
  const only = process.env.STRATA_TEST_BACKENDS?.split(',');
  return availableBackends()
    .filter((b) => !only || only.includes(b.name))
    .map((b) => ({ name: b.name, start: () => startStrata({ endpoint: (dir) => b.endpoint(dir), onCleanup: (dir) => b.drop(dir) }) }));
}
