/**
 * A three-node MariaDB Galera cluster of our own on free loopback ports, for the Galera suites:
 * three `mariadbd` processes as user `mysql` (as root the joiner's rsync SST drops to `nobody`
 * and fails), each with its own datadir under one scratch dir, the first bootstrapping the
 * cluster and the others joining it. The server on 3306 is never touched. A node killed with
 * SIGKILL restarts from its own datadir: `--wsrep-recover` first finds its last committed
 * position, which `--wsrep-start-position` hands to the real start, so it rejoins by IST rather
 * than a full SST.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chownSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import * as path from 'node:path';
import { freePorts, sleep } from './ports';

const MARIADBD = '/usr/sbin/mariadbd';
const INSTALL_DB = '/usr/bin/mariadb-install-db';
const PROVIDER = '/usr/lib/galera/libgalera_smm.so';
const RSYNC = '/usr/bin/rsync';
/** mariadb-install-db takes seconds on a quiet machine; CI runs it beside the other suites. */
const INSTALL_TIMEOUT_MS = 180_000;
/** How long a node that stops answering is kept in the cluster view (evs.inactive_timeout). */
export const GALERA_EVICTION_MS = 5_000;

export interface GaleraNode {
  index: number;
  /** The SQL port. */
  port: number;
  /** Whether its mariadbd is running. */
  readonly running: boolean;
}

export interface GaleraCluster {
  nodes: GaleraNode[];
  /** A mysql:// base (no database) for node i, in the go-sql-driver form the tests use. */
  base(i: number): string;
  /** Runs one SQL statement on node i with the mysql CLI; returns its tab-separated output. */
  sql(i: number, statement: string): string;
  /** SIGKILL of node i's mariadbd; resolves once it has exited. */
  kill(i: number): Promise<void>;
  /** Starts node i again from its datadir (IST, not SST) and waits until it is synced. */
  restart(i: number): Promise<void>;
  /** Stops every node and removes the scratch dir. */
  stop(): Promise<void>;
}

/** Why a Galera cluster cannot be started here, or undefined when it can. */
export function galeraUnavailable(): string | undefined {
  for (const [bin, pkg] of [
    [MARIADBD, 'mariadb-server'],
    [INSTALL_DB, 'mariadb-server'],
    [PROVIDER, 'galera-4'],
    [RSYNC, 'rsync'],
  ]) {
    if (!existsSync(bin)) return `${bin} not found; install ${pkg} (apt-get install -y mariadb-server galera-4 rsync)`;
  }
  const uid = userInfo().uid;
  const mysql = mysqlUser();
  if (!mysql) return 'there is no user "mysql" to run mariadbd as';
  if (uid !== 0 && uid !== mysql.uid) return 'the Galera nodes run as user "mysql": run the tests as root or as mysql';
  return undefined;
}

function mysqlUser(): { uid: number; gid: number } | undefined {
  const r = spawnSync('id', ['-u', 'mysql'], { encoding: 'utf8' });
  const g = spawnSync('id', ['-g', 'mysql'], { encoding: 'utf8' });
  if (r.status !== 0 || g.status !== 0) return undefined;
  return { uid: Number(r.stdout.trim()), gid: Number(g.stdout.trim()) };
}

interface NodeState extends GaleraNode {
  dir: string;
  gcommPort: number;
  istPort: number;
  sstPort: number;
  proc?: ChildProcess;
  exited?: Promise<void>;
  log: string;
}

/** Starts the cluster: node 0 bootstraps it, nodes 1 and 2 join one after the other. */
export async function startGalera(): Promise<GaleraCluster> {
  const why = galeraUnavailable();
  if (why) throw new Error(`cannot start a Galera cluster: ${why}`);
  const owner = mysqlUser() as { uid: number; gid: number };
  const root = mkdtempSync(path.join(tmpdir(), 'strata-galera-'));
  chownSync(root, owner.uid, owner.gid);
  const nodes: NodeState[] = [];
  const ports = await freePorts(12);
  for (let i = 0; i < 3; i++) {
    const dir = path.join(root, `node${i}`);
    mkdirSync(dir);
    chownSync(dir, owner.uid, owner.gid);
    nodes.push({
      index: i,
      dir,
      port: ports[4 * i],
      gcommPort: ports[4 * i + 1],
      istPort: ports[4 * i + 2],
      sstPort: ports[4 * i + 3],
      log: '',
      get running() {
        return this.proc !== undefined && this.proc.exitCode === null && this.proc.signalCode === null;
      },
    });
  }
  const peers = nodes.map((n) => `127.0.0.1:${n.gcommPort}`).join(',');

  const args = (n: NodeState, extra: string[]): string[] => [`--defaults-file=${path.join(n.dir, 'my.cnf')}`, ...extra];
  const writeConfig = (n: NodeState): void => {
    const cnf = [
      '[mariadbd]',
      `datadir=${path.join(n.dir, 'data')}`,
      `socket=${path.join(n.dir, 'mysqld.sock')}`,
      `pid-file=${path.join(n.dir, 'mysqld.pid')}`,
      `log-error=${path.join(n.dir, 'error.log')}`,
      'bind-address=127.0.0.1',
      `port=${n.port}`,
      'skip-name-resolve',
      'innodb_buffer_pool_size=64M',
      'innodb_log_file_size=32M',
      'innodb_flush_log_at_trx_commit=2',
      'max_connections=200',
      'binlog_format=ROW',
      'default_storage_engine=InnoDB',
      'innodb_autoinc_lock_mode=2',
      'wsrep_on=ON',
      `wsrep_provider=${PROVIDER}`,
      `wsrep_cluster_address=gcomm://${peers}`,
      'wsrep_cluster_name=strata_test',
      `wsrep_node_name=node${n.index}`,
      `wsrep_node_address=127.0.0.1:${n.gcommPort}`,
      `wsrep_sst_receive_address=127.0.0.1:${n.sstPort}`,
      'wsrep_sst_method=rsync',
      'wsrep_slave_threads=2',
      // Small loopback timeouts: a killed node leaves the view within GALERA_EVICTION_MS.
      `wsrep_provider_options="gmcast.listen_addr=tcp://127.0.0.1:${n.gcommPort};ist.recv_addr=127.0.0.1:${n.istPort};` +
        `evs.suspect_timeout=PT3S;evs.inactive_timeout=PT${GALERA_EVICTION_MS / 1000}S;evs.install_timeout=PT${GALERA_EVICTION_MS / 1000}S;` +
        'gcache.size=64M"',
      '',
    ].join('\n');
    writeFileSync(path.join(n.dir, 'my.cnf'), cnf);
    chownSync(path.join(n.dir, 'my.cnf'), owner.uid, owner.gid);
  };

  const runAsMysql = { uid: owner.uid, gid: owner.gid, cwd: root };
  const launch = (n: NodeState, extra: string[]): void => {
    const proc = spawn(MARIADBD, args(n, extra), { ...runAsMysql, stdio: ['ignore', 'pipe', 'pipe'] });
    n.proc = proc;
    proc.stdout?.on('data', (d: Buffer) => (n.log += d.toString()));
    proc.stderr?.on('data', (d: Buffer) => (n.log += d.toString()));
    n.exited = new Promise((resolve) => proc.on('exit', () => resolve()));
  };
  const sql = (i: number, statement: string): string => {
    const r = spawnSync('mysql', ['-uroot', '-h127.0.0.1', `-P${nodes[i].port}`, '--connect-timeout=3', '-N', '-B', '-e', statement], {
      encoding: 'utf8',
      timeout: 30_000,
    });
    if (r.error) throw r.error;
    if (r.status !== 0) throw new Error(`node ${i}: ${statement}: ${(r.stderr || r.stdout).trim()}`);
    return r.stdout.trim();
  };
  const errorLog = (n: NodeState): string => {
    const r = spawnSync('tail', ['-n', '40', path.join(n.dir, 'error.log')], { encoding: 'utf8' });
    return `${n.log}\n${r.stdout ?? ''}`;
  };
  const waitSynced = async (n: NodeState, ms: number): Promise<void> => {
    const deadline = Date.now() + ms;
    for (;;) {
      if (!n.running) throw new Error(`galera node ${n.index} exited during start:\n${errorLog(n)}`);
      try {
        const state = sql(n.index, "SHOW STATUS LIKE 'wsrep_local_state_comment'");
        if (state.endsWith('Synced')) return;
      } catch {
        // not accepting connections yet
      }
      if (Date.now() > deadline) throw new Error(`galera node ${n.index} not synced within ${ms} ms:\n${errorLog(n)}`);
      await sleep(200);
    }
  };
  const stopAll = async (): Promise<void> => {
    for (const n of nodes) if (n.running) n.proc?.kill('SIGKILL');
    await Promise.all(nodes.map((n) => n.exited));
    rmSync(root, { recursive: true, force: true });
  };
  // A test process that dies must not leave three servers behind.
  const onExit = (): void => {
    for (const n of nodes) if (n.running) n.proc?.kill('SIGKILL');
  };
  process.once('exit', onExit);

  try {
    // One bootstrap of the system tables, copied to the other datadirs: under a loaded CI machine
    // three bootstraps in a row took longer than the whole start should.
    for (const n of nodes) writeConfig(n);
    const r = spawnSync(
      INSTALL_DB,
      [
        `--defaults-file=${path.join(nodes[0].dir, 'my.cnf')}`,
        '--auth-root-authentication-method=normal',
        '--skip-test-db',
        '--user=mysql',
      ],
      { ...runAsMysql, encoding: 'utf8', timeout: INSTALL_TIMEOUT_MS },
    );
    if (r.status !== 0) {
      const how = r.error ? `${r.error.message}` : r.signal ? `killed by ${r.signal}` : `exit ${r.status}`;
      throw new Error(`mariadb-install-db for the galera nodes: ${how}: ${`${r.stderr ?? ''}${r.stdout ?? ''}`.trim().slice(-2000)}`);
    }
    for (const n of nodes.slice(1)) {
      const cp = spawnSync('cp', ['-a', path.join(nodes[0].dir, 'data'), path.join(n.dir, 'data')], { encoding: 'utf8' });
      if (cp.status !== 0) throw new Error(`copying the bootstrapped datadir to galera node ${n.index}: ${cp.stderr.trim()}`);
    }
    for (const n of nodes) {
      launch(n, n.index === 0 ? ['--wsrep-new-cluster'] : []);
      await waitSynced(n, 60_000);
    }
  } catch (e) {
    await stopAll();
    process.removeListener('exit', onExit);
    throw e;
  }

  return {
    nodes,
    base: (i) => `mysql://root@tcp(127.0.0.1:${nodes[i].port})`,
    sql,
    async kill(i) {
      const n = nodes[i];
      if (n.running) n.proc?.kill('SIGKILL');
      await n.exited;
    },
    async restart(i) {
      const n = nodes[i];
      if (n.running) throw new Error(`galera node ${i} is still running`);
      const recover = spawnSync(MARIADBD, args(n, ['--wsrep-recover', `--log-error=${path.join(n.dir, 'recover.log')}`]), {
        ...runAsMysql,
        encoding: 'utf8',
        timeout: 60_000,
      });
      const logText = spawnSync('cat', [path.join(n.dir, 'recover.log')], { encoding: 'utf8' }).stdout ?? '';
      const pos = /Recovered position:?\s*([0-9a-f-]{36}:-?\d+)/.exec(`${recover.stdout}${recover.stderr}${logText}`)?.[1];
      if (!pos) throw new Error(`galera node ${i}: --wsrep-recover found no position:\n${logText.slice(-2000)}`);
      launch(n, [`--wsrep-start-position=${pos}`]);
      await waitSynced(n, 60_000);
    },
    async stop() {
      await stopAll();
      process.removeListener('exit', onExit);
    },
  };
}
