#!/usr/bin/env node
/**
 * Issue 3's closing-note figures, per backend, for strata built in dist/ (run `npm run build` first):
 *
 *   puts/s      64 puts in flight through one instance, 10 s (after 1 s warm-up), 256 B values,
 *               keys drawn at random from 10,000; also the puts' own latency (median, p99)
 *   watch lag   a writer on instance A at ~200 puts/s, a watcher on instance B (same database);
 *               latency = time the watch event arrives − time the put was sent; median and p99
 *               over ≥ 2,000 events (PostgreSQL and MySQL only: SQLite is one instance)
 *
 * While each figure is measured, CPU is sampled from /proc: the strata processes, the database
 * server's processes (all of them: other users of the server count too), this client, and the
 * whole machine, so the table says what was the limit.
 *
 *   node bench/cross-instance.mjs [--runs 3] [--backends sqlite,postgres,mysql] [--duration 10]
 *                                 [--events 2000] [--rate 200] [--poll-interval 20ms]
 *
 * Prints one JSON line per figure per run ({"figure": …}), then a table of medians (with min–max)
 * over the runs. Every database it creates is dropped, every process it starts is stopped.
 * Environment: STRATA_TEST_POSTGRES / STRATA_TEST_MYSQL as for the tests.
 */
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import grpc from '@grpc/grpc-js';
import protoLoader from '@grpc/proto-loader';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const STRATA = path.join(ROOT, 'dist/main.js');
const PG_BASE = process.env.STRATA_TEST_POSTGRES ?? 'postgres://postgres@127.0.0.1:5432';
const MYSQL_BASE = process.env.STRATA_TEST_MYSQL ?? 'mysql://root@tcp(127.0.0.1:3306)';
const TICKS = 100; // getconf CLK_TCK on Linux
const CORES = readFileSync('/proc/cpuinfo', 'utf8')
  .split('\n')
  .filter((l) => l.startsWith('processor')).length;

// ---------------------------------------------------------------------------------------------- args
const opts = {
  runs: 3,
  backends: ['sqlite', 'postgres', 'mysql'],
  duration: 10,
  warmup: 1,
  events: 2000,
  rate: 200,
  inflight: 64,
  keys: 10_000,
  valueSize: 256,
  pollInterval: undefined,
};
for (let i = 2; i < process.argv.length; i++) {
  const a = process.argv[i];
  const v = () => process.argv[++i];
  if (a === '--runs') opts.runs = Number(v());
  else if (a === '--backends') opts.backends = v().split(',');
  else if (a === '--duration') opts.duration = Number(v());
  else if (a === '--events') opts.events = Number(v());
  else if (a === '--rate') opts.rate = Number(v());
  else if (a === '--inflight') opts.inflight = Number(v());
  else if (a === '--poll-interval') opts.pollInterval = v();
  else {
    console.error(`unknown option ${a}\n(see the comment at the top of ${path.relative(ROOT, fileURLToPath(import.meta.url))})`);
    process.exit(2);
  }
}
if (!existsSync(STRATA)) {
  console.error(`${STRATA} is missing: run \`npm run build\` first`);
  process.exit(2);
}

// -------------------------------------------------------------------------------------------- client
const pkgDef = protoLoader.loadSync(['rpc.proto'], {
  includeDirs: [path.join(ROOT, 'proto')],
  keepCase: true,
  longs: String,
  enums: String,
  defaults: true,
  oneofs: true,
});
const pb = grpc.loadPackageDefinition(pkgDef).etcdserverpb;

function client(address) {
  const creds = grpc.credentials.createInsecure();
  const kv = new pb.KV(address, creds);
  const watch = new pb.Watch(address, creds);
  const maint = new pb.Maintenance(address, creds);
  const unary = (c, m) => (req) => new Promise((res, rej) => c[m](req, { deadline: Date.now() + 30_000 }, (e, r) => (e ? rej(e) : res(r))));
  return {
    put: unary(kv, 'Put'),
    range: unary(kv, 'Range'),
    status: unary(maint, 'Status'),
    watch: () => watch.Watch(),
    close: () => [kv, watch, maint].forEach((c) => c.close()),
  };
}

// ------------------------------------------------------------------------------------------- servers
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
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function admin(kind, sql) {
  let r;
  if (kind === 'postgres') r = spawnSync('psql', [`${PG_BASE}/postgres`, '-v', 'ON_ERROR_STOP=1', '-qAtc', sql], { encoding: 'utf8' });
  else {
    const m = /^mysql:\/\/([^:@]*)(?::([^@]*))?@tcp\(([^:)]+)(?::(\d+))?\)/.exec(MYSQL_BASE);
    r = spawnSync('mysql', [`-u${m[1]}`, ...(m[2] ? [`-p${m[2]}`] : []), `-h${m[3]}`, `-P${m[4] ?? '3306'}`, '-e', sql], {
      encoding: 'utf8',
    });
  }
  if (r.error || r.status !== 0) throw new Error(`${kind}: ${sql}: ${r.error?.message ?? r.stderr}`);
}

/** A fresh store for one measurement: endpoint and a drop function. */
function freshStore(backend) {
  const dir = mkdtempSync(path.join(tmpdir(), 'strata-xbench-'));
  const db = path
    .basename(dir)
    .toLowerCase()
    .replace(/[^a-z0-9]/g, '_');
  if (backend === 'sqlite')
    return { endpoint: `sqlite://${path.join(dir, 'state.db')}`, drop: () => rmSync(dir, { recursive: true, force: true }) };
  const endpoint = backend === 'postgres' ? `${PG_BASE}/${db}?sslmode=disable` : `${MYSQL_BASE}/${db}`;
  const drop = () => {
    try {
      admin(backend, backend === 'postgres' ? `DROP DATABASE IF EXISTS "${db}" WITH (FORCE)` : `DROP DATABASE IF EXISTS \`${db}\``);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  };
  return { endpoint, drop };
}

const live = new Set();
async function startStrata(endpoint) {
  const port = await freePort();
  const address = `127.0.0.1:${port}`;
  const args = [STRATA, '--listen-address', address, '--endpoint', endpoint, '--log-level', 'warn'];
  if (opts.pollInterval) args.push('--poll-interval', opts.pollInterval);
  const proc = spawn(process.execPath, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  proc.stderr.on('data', (d) => (err += d));
  const exited = new Promise((r) => proc.on('exit', r));
  live.add(proc);
  const c = client(address);
  for (const deadline = Date.now() + 20_000; ;) {
    if (proc.exitCode !== null) throw new Error(`strata exited: ${err}`);
    try {
      await c.status({});
      break;
    } catch {
      if (Date.now() > deadline) throw new Error(`strata at ${address} did not start: ${err}`);
      await sleep(50);
    }
  }
  c.close();
  return {
    address,
    pid: proc.pid,
    async stop() {
      proc.kill('SIGTERM');
      const t = setTimeout(() => proc.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(t);
      live.delete(proc);
    },
  };
}
process.on('exit', () => {
  for (const p of live) p.kill('SIGKILL');
});
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => process.exit(130));

// ----------------------------------------------------------------------------------------------- CPU
function ticksOf(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(f[11]) + Number(f[12]); // utime + stime
  } catch {
    return 0;
  }
}
function dbPids(backend) {
  const names = backend === 'postgres' ? ['postgres'] : backend === 'mysql' ? ['mariadbd', 'mysqld'] : [];
  const out = [];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      if (names.includes(readFileSync(`/proc/${d}/comm`, 'utf8').trim())) out.push(Number(d));
    } catch {
      // gone
    }
  }
  return out;
}
function machineTicks() {
  const f = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
  const idle = f[3] + f[4];
  return { busy: f.reduce((a, x) => a + x, 0) - idle, total: f.reduce((a, x) => a + x, 0) };
}
/** Starts a CPU sample; `end()` gives % of one core per group (100 = one full core) and the machine. */
function cpuSample(groups, backend) {
  const t0 = process.hrtime.bigint();
  const m0 = machineTicks();
  const me0 = process.cpuUsage();
  const db0 = new Map(dbPids(backend).map((p) => [p, ticksOf(p)]));
  const g0 = Object.fromEntries(Object.entries(groups).map(([k, pids]) => [k, pids.map(ticksOf)]));
  return {
    end() {
      const secs = Number(process.hrtime.bigint() - t0) / 1e9;
      const out = {};
      for (const [k, pids] of Object.entries(groups)) out[k] = pct(pids.reduce((a, p, i) => a + ticksOf(p) - g0[k][i], 0) / TICKS, secs);
      let db = 0;
      for (const p of dbPids(backend)) db += ticksOf(p) - (db0.get(p) ?? 0);
      if (backend !== 'sqlite') out.database = pct(db / TICKS, secs);
      const me = process.cpuUsage(me0);
      out.client = pct((me.user + me.system) / 1e6, secs);
      const m1 = machineTicks();
      out.machine = Math.round((1000 * (m1.busy - m0.busy)) / (m1.total - m0.total)) / 10; // % of all cores
      return out;
    },
  };
}
const pct = (cpuSecs, secs) => Math.round((1000 * cpuSecs) / secs) / 10;

// ------------------------------------------------------------------------------------------ figures
function quantile(sorted, q) {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}
const r2 = (x) => Math.round(x * 100) / 100;

async function putsPerSecond(backend) {
  const store = freshStore(backend);
  const a = await startStrata(store.endpoint);
  const c = client(a.address);
  try {
    const value = randomBytes(opts.valueSize);
    let measuring = false;
    let stop = false;
    let done = 0;
    let errors = 0;
    const lat = [];
    const worker = async () => {
      while (!stop) {
        const key = Buffer.from(`/bench/put/${String(Math.floor(Math.random() * opts.keys)).padStart(5, '0')}`);
        const t = performance.now();
        try {
          await c.put({ key, value });
        } catch (e) {
          errors++;
          if (errors === 1) console.error(`put failed: ${e.message}`);
          await sleep(10);
          continue;
        }
        if (measuring) {
          done++;
          lat.push(performance.now() - t);
        }
      }
    };
    const workers = Array.from({ length: opts.inflight }, worker);
    await sleep(opts.warmup * 1000);
    const cpu = cpuSample({ strata: [a.pid] }, backend);
    const t0 = performance.now();
    measuring = true;
    await sleep(opts.duration * 1000);
    measuring = false;
    const secs = (performance.now() - t0) / 1000;
    const usage = cpu.end();
    stop = true;
    await Promise.all(workers);
    lat.sort((x, y) => x - y);
    // CPU per put (µs of one core) is what contention on a shared machine changes least.
    const perPut = (pctOfCore) => Math.round(((pctOfCore / 100) * secs * 1e6) / Math.max(1, done));
    const cpu_us_per_put = { strata: perPut(usage.strata), client: perPut(usage.client) };
    if (usage.database !== undefined) cpu_us_per_put.database = perPut(usage.database);
    // Everything else on the machine (other users), in % of one core.
    usage.others = r2(Math.max(0, usage.machine * CORES - usage.strata - (usage.database ?? 0) - usage.client));
    return {
      figure: 'puts_per_s',
      backend,
      inflight: opts.inflight,
      seconds: r2(secs),
      puts: done,
      errors,
      puts_per_s: Math.round(done / secs),
      put_ms_p50: r2(quantile(lat, 0.5)),
      put_ms_p99: r2(quantile(lat, 0.99)),
      cpu_pct: usage,
      cpu_us_per_put,
    };
  } finally {
    c.close();
    await a.stop();
    store.drop();
  }
}

async function watchLatency(backend) {
  const store = freshStore(backend);
  const a = await startStrata(store.endpoint);
  const bInst = await startStrata(store.endpoint);
  const ca = client(a.address);
  const cb = client(bInst.address);
  const prefix = '/bench/lat/';
  try {
    const sentAt = new Map(); // value tag → send time
    const lat = [];
    let received = 0;
    let putErrors = 0;
    const warmupEvents = Math.round(opts.rate * opts.warmup);
    const want = opts.events + warmupEvents;
    let resolveDone;
    const allIn = new Promise((r) => (resolveDone = r));
    const w = cb.watch();
    w.on('error', () => undefined);
    const created = new Promise((r) => w.on('data', (m) => m.created && r()));
    w.on('data', (m) => {
      const now = performance.now();
      for (const e of m.events ?? []) {
        const tag = Buffer.from(e.kv.value).subarray(0, 12).toString();
        const t = sentAt.get(tag);
        if (t === undefined) continue;
        sentAt.delete(tag);
        received++;
        if (received > warmupEvents) lat.push(now - t);
        if (received >= want) resolveDone();
      }
    });
    w.write({ create_request: { key: Buffer.from(prefix), range_end: Buffer.from('/bench/lat0') } });
    await created;
    const pad = randomBytes(opts.valueSize);
    const interval = 1000 / opts.rate;
    let cpu;
    const t0 = performance.now();
    const puts = [];
    for (let i = 0; i < want; i++) {
      const due = t0 + i * interval;
      const wait = due - performance.now();
      if (wait > 1) await sleep(wait);
      if (i === warmupEvents) cpu = cpuSample({ strata_writer: [a.pid], strata_watcher: [bInst.pid] }, backend);
      const tag = String(i).padStart(12, '0');
      const value = Buffer.concat([Buffer.from(tag), pad.subarray(12)]);
      sentAt.set(tag, performance.now());
      puts.push(ca.put({ key: Buffer.from(`${prefix}${String(i % opts.keys).padStart(5, '0')}`), value }).catch(() => putErrors++));
    }
    const sendSecs = (performance.now() - t0) / 1000;
    await Promise.race([allIn, sleep(30_000)]);
    const usage = cpu.end();
    await Promise.all(puts);
    w.cancel();
    if (received < want) throw new Error(`${backend}: only ${received} of ${want} watch events arrived`);
    lat.sort((x, y) => x - y);
    return {
      figure: 'watch_latency',
      backend,
      events: lat.length,
      rate_per_s: Math.round(want / sendSecs),
      put_errors: putErrors,
      ms_p50: r2(quantile(lat, 0.5)),
      ms_p90: r2(quantile(lat, 0.9)),
      ms_p99: r2(quantile(lat, 0.99)),
      ms_max: r2(lat[lat.length - 1]),
      poll_interval: opts.pollInterval ?? 'default',
      cpu_pct: usage,
    };
  } finally {
    ca.close();
    cb.close();
    await a.stop();
    await bInst.stop();
    store.drop();
  }
}

// ------------------------------------------------------------------------------------------------ main
const results = [];
for (let run = 1; run <= opts.runs; run++) {
  for (const backend of opts.backends) {
    const p = await putsPerSecond(backend);
    p.run = run;
    console.log(JSON.stringify(p));
    results.push(p);
    if (backend === 'sqlite') continue;
    const l = await watchLatency(backend);
    l.run = run;
    console.log(JSON.stringify(l));
    results.push(l);
  }
}

const med = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const spread = (xs) => (xs.length > 1 ? ` (${Math.min(...xs)}–${Math.max(...xs)})` : '');
const cell = (rs, f) => {
  const xs = rs.map(f);
  return `${r2(med(xs))}${spread(xs)}`;
};
const cpuCell = (rs, keys) => keys.map((k) => `${k} ${Math.round(med(rs.map((r) => r.cpu_pct[k] ?? 0)))}%`).join(', ');

console.log(
  `\nmedians over ${opts.runs} run(s), (min–max); CPU in % of one core, machine in % of all ${CORES} cores; others = the rest of the machine`,
);
console.log('| backend | puts/s @64 | put p50 ms | put p99 ms | CPU during puts | CPU µs per put (strata / database / client) |');
console.log('|---|---|---|---|---|---|');
for (const backend of opts.backends) {
  const rs = results.filter((r) => r.figure === 'puts_per_s' && r.backend === backend);
  console.log(
    `| ${backend} | ${cell(rs, (r) => r.puts_per_s)} | ${cell(rs, (r) => r.put_ms_p50)} | ${cell(rs, (r) => r.put_ms_p99)} | ${cpuCell(rs, ['strata', ...(backend === 'sqlite' ? [] : ['database']), 'client', 'others', 'machine'])} | ${['strata', 'database', 'client'].map((k) => (backend === 'sqlite' && k === 'database' ? '–' : String(Math.round(med(rs.map((r) => r.cpu_us_per_put[k])))))).join(' / ')} |`,
  );
}
const shared = opts.backends.filter((x) => x !== 'sqlite');
if (shared.length > 0) {
  console.log(`\n| backend | cross-instance watch p50 ms | p90 ms | p99 ms | events/run | CPU during watch run |`);
  console.log('|---|---|---|---|---|---|');
  for (const backend of shared) {
    const rs = results.filter((r) => r.figure === 'watch_latency' && r.backend === backend);
    console.log(
      `| ${backend} | ${cell(rs, (r) => r.ms_p50)} | ${cell(rs, (r) => r.ms_p90)} | ${cell(rs, (r) => r.ms_p99)} | ${rs[0]?.events} | ${cpuCell(rs, ['strata_writer', 'strata_watcher', 'database', 'client', 'machine'])} |`,
    );
  }
}
