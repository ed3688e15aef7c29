#!/usr/bin/env node
/**
 * `etcdctl snapshot save` of a 100,000-key store (1 KiB values), strata (built in dist/: run
 * `npm run build` first) on each backend beside Debian's etcd: the time the save takes, the file's
 * size, and the server's RSS (VmRSS from /proc) before the save and at its peak during it, sampled
 * every 20 ms.
 *
 *   node bench/snapshot.mjs [--targets sqlite,postgres,mysql,etcd] [--keys 100000]
 *
 * Prints one JSON line per target, then a table. Every process and database it creates is removed.
 * Environment: STRATA_TEST_POSTGRES / STRATA_TEST_MYSQL as for the tests.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import grpc from '@grpc/grpc-js';
import protoLoader from '@grpc/proto-loader';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const STRATA = path.join(ROOT, 'dist/main.js');
const ETCD = process.env.ETCD_BIN ?? '/usr/bin/etcd';
const ETCDCTL = process.env.ETCDCTL_BIN ?? '/usr/bin/etcdctl';
const PG_BASE = process.env.STRATA_TEST_POSTGRES ?? 'postgres://postgres@127.0.0.1:5432';
const MYSQL_BASE = process.env.STRATA_TEST_MYSQL ?? 'mysql://root@tcp(127.0.0.1:3306)';

const arg = (name, dflt) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : dflt;
};
const TARGETS = arg('targets', 'sqlite,postgres,mysql,etcd').split(',');
const KEYS = Number(arg('keys', '100000'));
const VALUE = Buffer.alloc(1024, 'v');
const PER_TXN = 100;

const pkgDef = protoLoader.loadSync(['rpc.proto'], {
  includeDirs: [path.join(ROOT, 'proto')],
  keepCase: true,
  longs: String,
  defaults: true,
  oneofs: true,
});
const pb = grpc.loadPackageDefinition(pkgDef).etcdserverpb;
const call = (c, m, req) => new Promise((res, rej) => c[m](req, { deadline: Date.now() + 60_000 }, (e, r) => (e ? rej(e) : res(r))));
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

function rssOf(pid) {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) * 1024 : 0;
}

function admin(kind, sql) {
  const m = /^mysql:\/\/([^:@]*)(?::([^@]*))?@tcp\(([^:)]+)(?::(\d+))?\)/.exec(MYSQL_BASE);
  const r =
    kind === 'postgres'
      ? spawnSync('psql', [`${PG_BASE}/postgres`, '-qAtc', sql], { encoding: 'utf8' })
      : spawnSync('mysql', [`-u${m[1]}`, ...(m[2] ? [`-p${m[2]}`] : []), `-h${m[3]}`, `-P${m[4] ?? '3306'}`, '-e', sql], {
          encoding: 'utf8',
        });
  if (r.error || r.status !== 0) throw new Error(`${kind}: ${sql}: ${r.error?.message ?? r.stderr}`);
}

async function start(target, dir) {
  const port = await freePort();
  const address = `127.0.0.1:${port}`;
  const db = path
    .basename(dir)
    .toLowerCase()
    .replace(/[^a-z0-9]/g, '_');
  let proc;
  let drop = () => undefined;
  if (target === 'etcd') {
    const peer = `http://127.0.0.1:${await freePort()}`;
    proc = spawn(
      ETCD,
      [
        '--data-dir',
        path.join(dir, 'etcd'),
        '--listen-client-urls',
        `http://${address}`,
        '--advertise-client-urls',
        `http://${address}`,
        '--listen-peer-urls',
        peer,
        '--initial-advertise-peer-urls',
        peer,
        '--initial-cluster',
        `default=${peer}`,
        '--log-level',
        'error',
        '--logger',
        'zap',
      ],
      { stdio: 'ignore' },
    );
  } else {
    const endpoint =
      target === 'sqlite'
        ? `sqlite://${path.join(dir, 'state.db')}`
        : target === 'postgres'
          ? `${PG_BASE}/${db}?sslmode=disable`
          : `${MYSQL_BASE}/${db}`;
    if (target === 'postgres') drop = () => admin('postgres', `DROP DATABASE IF EXISTS "${db}" WITH (FORCE)`);
    if (target === 'mysql') drop = () => admin('mysql', `DROP DATABASE IF EXISTS \`${db}\``);
    proc = spawn(process.execPath, [STRATA, '--listen-address', address, '--endpoint', endpoint, '--log-level', 'warn'], {
      stdio: 'ignore',
    });
  }
  const exited = new Promise((r) => proc.on('exit', r));
  const maint = new pb.Maintenance(address, grpc.credentials.createInsecure());
  for (const deadline = Date.now() + 30_000; ; await sleep(100)) {
    if (proc.exitCode !== null) throw new Error(`${target} exited at start`);
    try {
      await call(maint, 'Status', {});
      break;
    } catch (e) {
      if (Date.now() > deadline) throw e;
    }
  }
  maint.close();
  return {
    address,
    pid: proc.pid,
    async stop() {
      proc.kill('SIGTERM');
      await exited;
      drop();
    },
  };
}

async function load(address) {
  const kv = new pb.KV(address, grpc.credentials.createInsecure());
  const inFlight = [];
  for (let i = 0; i < KEYS; i += PER_TXN) {
    const success = [];
    for (let j = i; j < Math.min(KEYS, i + PER_TXN); j++)
      success.push({ request_put: { key: Buffer.from(`/registry/k${String(j).padStart(7, '0')}`), value: VALUE } });
    inFlight.push(call(kv, 'Txn', { success }));
    if (inFlight.length >= 8) await inFlight.shift();
  }
  await Promise.all(inFlight);
  kv.close();
}

async function measure(target) {
  const dir = mkdtempSync(path.join(tmpdir(), 'strata-snapbench-'));
  const server = await start(target, dir);
  try {
    await load(server.address);
    await sleep(1000);
    const before = rssOf(server.pid);
    let peak = before;
    const timer = setInterval(() => (peak = Math.max(peak, rssOf(server.pid))), 20);
    const file = path.join(dir, 'snapshot.db');
    const started = Date.now();
    // Not spawnSync: the RSS sampler needs the event loop while etcdctl runs.
    const code = await new Promise((resolve) => {
      const p = spawn(ETCDCTL, ['--endpoints', server.address, 'snapshot', 'save', file], {
        env: { ...process.env, ETCDCTL_API: '3' },
        stdio: 'ignore',
      });
      p.on('exit', resolve);
    });
    const ms = Date.now() - started;
    clearInterval(timer);
    if (code !== 0) throw new Error(`snapshot save against ${target} exited ${code}`);
    return { target, keys: KEYS, ms, bytes: statSync(file).size, rssBefore: before, rssPeak: peak };
  } finally {
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

const mib = (n) => (n / 2 ** 20).toFixed(0);
const rows = [];
for (const t of TARGETS) {
  const r = await measure(t);
  console.log(JSON.stringify({ figure: 'snapshot-save', ...r }));
  rows.push(r);
}
console.log(`\n| target | keys | snapshot save | file | server RSS before | RSS peak during |\n|---|---|---|---|---|---|`);
for (const r of rows)
  console.log(
    `| ${r.target} | ${r.keys} | ${(r.ms / 1000).toFixed(2)} s | ${mib(r.bytes)} MiB | ${mib(r.rssBefore)} MiB | ${mib(r.rssPeak)} MiB |`,
  );
