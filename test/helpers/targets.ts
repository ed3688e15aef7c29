import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { describe, test } from 'vitest';
import { AGAINST } from './against';
import { galeraUnavailable, startGalera, type GaleraCluster } from './galera';
import { skipped } from './notice';
import { haveTool, ETCD_BIN, startEtcd, startStrata, type Server } from './servers';

/** The test servers; CI runs them on this machine (see .ci/run), elsewhere override these. */
export const PG_BASE = process.env.STRATA_TEST_POSTGRES ?? 'postgres://postgres@127.0.0.1:5432';
export const MYSQL_BASE = process.env.STRATA_TEST_MYSQL ?? 'mysql://root@tcp(127.0.0.1:3306)';

/** A database name of our own for one scratch dir: strata creates it, `dropDatabase` removes it. */
export function databaseFor(dataDir: string): string {
  return path
    .basename(dataDir)
    .toLowerCase()
    .replace(/[^a-z0-9]/g, '_');
}

/** The mysql CLI's connection flags for MYSQL_BASE. */
export function mysqlArgs(): string[] {
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

const serverDown = (kind: 'postgres' | 'mysql', base: string) => (): string | undefined => {
  const err = adminSql(kind, 'SELECT 1');
  return err
    ? `${kind} at ${base} is not reachable (${err}); start it or set ${kind === 'postgres' ? 'STRATA_TEST_POSTGRES' : 'STRATA_TEST_MYSQL'}`
    : undefined;
};

export type BackendName = 'sqlite' | 'postgres' | 'mysql' | 'galera';

/** A storage backend strata can run on here; every suite that loops over backends gets them from `testBackends()`. */
export interface Backend {
  name: BackendName;
  /**
   * The endpoint for one strata process whose scratch dir (removed by its cleanup) is `dataDir`;
   * `instance` picks the server of a several-server backend (Galera: node instance mod 3).
   */
  endpoint(dataDir: string, instance?: number): string;
  /** Removes what `endpoint(dataDir)` created outside the scratch dir (a server's database). */
  drop(dataDir: string): void;
  /** Starts what the backend needs (Galera's cluster, once per test file); before `endpoint`. */
  ready?(): Promise<void>;
}

interface Candidate extends Backend {
  /** Why it cannot run here, or undefined when it can. */
  unavailable(): string | undefined;
}

const BACKENDS: Candidate[] = [
  {
    name: 'sqlite',
    unavailable: () => undefined,
    endpoint: (dataDir) => `sqlite://${path.join(dataDir, 'state.db')}`,
    drop: () => undefined,
  },
  {
    name: 'postgres',
    unavailable: serverDown('postgres', PG_BASE),
    endpoint: (dataDir) => `${PG_BASE}/${databaseFor(dataDir)}?sslmode=disable`,
    drop: (dataDir) => dropDatabase('postgres', databaseFor(dataDir)),
  },
  {
    name: 'mysql',
    unavailable: serverDown('mysql', MYSQL_BASE),
    endpoint: (dataDir) => `${MYSQL_BASE}/${databaseFor(dataDir)}`,
    drop: (dataDir) => dropDatabase('mysql', databaseFor(dataDir)),
  },
];

/**
 * The Galera cluster of this test file, started by the first suite that needs it: three nodes
 * take ~20 s to start, so only the Galera file (e2e/galera.test.ts) runs on it, once.
 */
let galera: Promise<GaleraCluster> | undefined;
let galeraStarted: GaleraCluster | undefined;

function galeraCluster(): GaleraCluster {
  if (!galeraStarted) throw new Error('the Galera backend runs only in suites that start its cluster (Backend.ready; e2e/galera.test.ts)');
  return galeraStarted;
}

/** This file's Galera cluster, started on first use; `stopGalera` ends it. */
export async function useGalera(): Promise<GaleraCluster> {
  galera ??= startGalera().then((g) => (galeraStarted = g));
  return galera;
}

export async function stopGalera(): Promise<void> {
  const g = galera;
  galera = undefined;
  galeraStarted = undefined;
  if (g) await (await g.catch(() => undefined))?.stop();
}

BACKENDS.push({
  name: 'galera',
  unavailable: galeraUnavailable,
  ready: async () => void (await useGalera()),
  endpoint: (dataDir, instance = 0) =>
    `${galeraCluster()
      .base(instance % 3)
      .replace(/^mysql:/, 'galera:')}/${databaseFor(dataDir)}`,
  drop: (dataDir) => void galeraCluster().sql(0, `DROP DATABASE IF EXISTS \`${databaseFor(dataDir)}\``),
});

const NAMES = BACKENDS.map((b) => b.name);

/**
 * Conformance targets for engines this machine cannot run, exercised through their rules on one it
 * can: `cockroachdb://` on the real PostgreSQL (no NOTIFY: the log is polled; CockroachDB's retry
 * codes; no advisory lock). Selected like a backend, run only by the conformance suite.
 */
const RULE_TARGETS = [
  {
    name: 'cockroachdb-rules',
    on: 'postgres' as BackendName,
    endpoint: (dataDir: string) => `${PG_BASE.replace(/^postgres(ql)?:/, 'cockroachdb:')}/${databaseFor(dataDir)}?sslmode=disable`,
    drop: (dataDir: string) => dropDatabase('postgres', databaseFor(dataDir)),
  },
];
const KNOWN = [...NAMES, ...RULE_TARGETS.map((t) => t.name)];

/** What runs when STRATA_TEST_BACKENDS is unset: everything but Galera, which has suites of its own. */
const DEFAULT_NAMES = KNOWN.filter((n) => n !== 'galera');
/** Set by a Galera suite file that reruns other suites on Galera alone (e2e/galera-only.ts). */
let forced: string[] | undefined;

/**
 * From now on in this test file, every suite runs on those of `names` that STRATA_TEST_BACKENDS
 * names (unset: all of them).
 */
export function forceBackends(names: BackendName[]): void {
  const listed = listedBackends() ?? KNOWN;
  forced = names.filter((n) => listed.includes(n));
}

/** STRATA_TEST_BACKENDS (a comma list), default every backend and rule target but Galera; a name we do not know is an error. */
function selected(): string[] {
  return forced ?? listedBackends() ?? DEFAULT_NAMES;
}

function listedBackends(): string[] | undefined {
  const raw = process.env.STRATA_TEST_BACKENDS?.trim();
  if (!raw) return undefined;
  const names = raw
    .split(',')
    .map((x) => x.trim())
    .filter((x) => x !== '');
  for (const n of names) {
    if (!KNOWN.includes(n)) throw new Error(`STRATA_TEST_BACKENDS: unknown backend "${n}" (known: ${KNOWN.join(', ')})`);
  }
  return names;
}

/** Each server is probed once per test file. */
const probed = new Map<BackendName, string | undefined>();

/**
 * The backends to run on: those STRATA_TEST_BACKENDS names (default: all but Galera), narrowed to `only` if
 * given, that can be reached here. One that cannot fails the run in CI (CI=true) and is skipped with
 * a printed reason elsewhere; one not selected is left alone (its server is never probed).
 */
export function testBackends(only?: BackendName[]): Backend[] {
  const want = selected();
  return BACKENDS.filter((b) => want.includes(b.name) && (!only || only.includes(b.name)) && reachable(b.name, `backend ${b.name}`));
}

/** Whether the server of backend `name` answers; when it does not, fails in CI and says why elsewhere. */
function reachable(name: BackendName, what: string): boolean {
  const b = BACKENDS.find((x) => x.name === name)!;
  if (!probed.has(name)) probed.set(name, b.unavailable());
  const why = probed.get(name);
  if (!why) return true;
  if (process.env.CI === 'true') throw new Error(`${what} unavailable in CI: ${why}`);
  skipped(what, why);
  return false;
}

/** The one backend a suite is about (e.g. PostgreSQL's TLS), when it is selected and reachable. */
export function testBackend(name: BackendName): Backend | undefined {
  return testBackends([name])[0];
}

/** Why a suite for `names` has no backend: none of them selected, or none reachable. */
export function noBackendReason(names: BackendName[] = NAMES): string {
  const want = selected().filter((n) => (names as string[]).includes(n));
  return want.length === 0
    ? `${names.join(', ')} not selected (STRATA_TEST_BACKENDS=${process.env.STRATA_TEST_BACKENDS ?? ''})`
    : `${want.join(', ')} not reachable here`;
}

/** A describe block that is skipped, its title saying why (vitest needs a test in every file). */
export function skippedSuite(suite: string, why: string): void {
  describe.skip(`${suite}: ${why}`, () => {
    test('not run here', () => undefined);
  });
}

/** One describe block per backend of `testBackends(only)`, or one skipped block that says why there is none. */
export function forEachBackend(suite: string, body: (backend: Backend) => void, only?: BackendName[]): void {
  const list = testBackends(only);
  if (list.length === 0) return skippedSuite(suite, noBackendReason(only));
  for (const backend of list) describe(`${suite} [${backend.name}]`, () => body(backend));
}

/**
 * A conformance target: strata on a backend, or (STRATA_TEST_AGAINST=etcd) the real etcd, which is
 * how the suite itself is checked against the reference.
 */
export interface Target {
  name: string;
  start(): Promise<Server>;
}

/** What the conformance suite runs strata on: the backends, and the rule targets on theirs. */
export type ConformanceBackend = Pick<Backend, 'endpoint' | 'drop' | 'ready'> & { name: string };

function conformanceBackends(): ConformanceBackend[] {
  const rules = RULE_TARGETS.filter((t) => selected().includes(t.name) && reachable(t.on, `target ${t.name}`));
  return [...testBackends(), ...rules];
}

/** forEachBackend for the conformance suite's strata-only files: the rule targets included. */
export function forEachConformanceBackend(suite: string, body: (backend: ConformanceBackend) => void): void {
  const list = conformanceBackends();
  if (list.length === 0) return skippedSuite(suite, noBackendReason());
  for (const backend of list) describe(`${suite} [${backend.name}]`, () => body(backend));
}

/** Set by a suite file: conformance runs through an instance that forwards every write to another, elected writer. */
let throughForwarder = false;

/**
 * From now on in this test file, each conformance target is two instances with --writer-election=on
 * on two servers of the backend (Galera: two nodes): the first elected writer, the suite talking to
 * the second, whose every write is forwarded.
 */
export function conformanceThroughForwarder(): void {
  throughForwarder = true;
}

/** Resolves once the instance at `address` reports holding the writer lease. */
async function holdsWriterLease(address: string): Promise<void> {
  for (let i = 0; i < 100; i++) {
    const text = await (await fetch(`http://${address}/metrics`)).text();
    if (/^strata_writer_lease_held 1$/m.test(text)) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`the instance at ${address} never took the writer lease`);
}

async function startForwarding(b: ConformanceBackend): Promise<Server> {
  const args = ['--writer-election', 'on'];
  const writer = await startStrata({ endpoint: (dir) => b.endpoint(dir, 1), onCleanup: (dir) => b.drop(dir), args });
  try {
    await holdsWriterLease(writer.address);
    const front = await startStrata({ endpoint: `${b.endpoint(writer.dataDir, 0)}`, args });
    return {
      ...front,
      async stop() {
        // The suite must have gone through the writer, not around it.
        const metrics = await (await fetch(`http://${front.address}/metrics`)).text();
        const forwarded = Number(/^strata_forwarded_writes_total (\S+)$/m.exec(metrics)?.[1] ?? 0);
        const code = await front.stop();
        const writerCode = await writer.stop();
        if (forwarded === 0) throw new Error('the instance the suite talked to forwarded no write to the elected writer');
        return code === 0 ? writerCode : code;
      },
      async kill() {
        await front.kill();
        await writer.kill();
      },
      cleanup() {
        front.cleanup();
        writer.cleanup();
      },
    };
  } catch (e) {
    await writer.stop();
    writer.cleanup();
    throw e;
  }
}

export function targets(): Target[] {
  if (AGAINST === 'etcd') return haveTool(ETCD_BIN, 'etcd') ? [{ name: 'etcd', start: () => startEtcd() }] : [];
  if (throughForwarder) {
    return conformanceBackends().map((b) => ({
      name: `${b.name}-forward`,
      start: async () => {
        await b.ready?.();
        return startForwarding(b);
      },
    }));
  }
  return conformanceBackends().map((b) => ({
    name: b.name,
    start: async () => {
      await b.ready?.();
      return startStrata({ endpoint: (dir) => b.endpoint(dir), onCleanup: (dir) => b.drop(dir) });
    },
  }));
}
