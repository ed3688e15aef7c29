/**
 * `npm run bench`: strata (SQLite, PostgreSQL, MySQL) against Debian's etcd, same workloads, one run.
 *
 *   npm run bench                          full run (3 rounds), writes bench/results/<time>.jsonl and docs/benchmarks.md
 *   npm run bench -- --quick               1 round, 1 s windows
 *   npm run bench -- --targets sqlite,etcd only these targets
 *   npm run bench -- --only put-64,get-lin-64 --no-memory
 *   npm run bench -- --rounds 5 --duration 3
 *   npm run bench -- --no-docs             keep docs/benchmarks.md as it is
 *   npm run bench -- --report <file.jsonl>[,<file.jsonl>] regenerate docs/benchmarks.md from saved results (a
 *                                          run's tables and a scale run's section may come from different files)
 *   npm run bench -- --auth                put-64 and get-lin-64 with auth on (a user with a prefix role),
 *                                          on every target; no memory figure, docs/benchmarks.md untouched
 *   npm run bench -- --tls                 put-64 and get-lin-64 over mTLS on every target (etcd too); combines
 *                                          with --auth; no memory figure, docs/benchmarks.md untouched
 *   npm run bench -- --scale               also the scale workload (1,000,000 keys on SQLite, PostgreSQL and etcd;
 *                                          about 20 min); with --only scale nothing else
 *   npm run bench -- --profile             strata on SQLite under node --cpu-prof for put-64, get-lin-64,
 *                                          txn-update-64 (and txn-create-64), summarised
 */
import { appendFileSync, copyFileSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { AUTH_WORKLOADS } from './lib/auth';
import { makeBenchTls, removeBenchTls } from './lib/tls';
import { readProfile, renderSummary, summarise } from './lib/cpuprofile';
import { BENCH_DIR, buildLoadgen, runLoadgen } from './lib/loadgen';
import { FULL, QUICK, workloads, type Sizes } from './lib/plan';
import { readLines, writeDocs } from './lib/docs';
import { renderTables } from './lib/report';
import { renderScale } from './lib/scale-report';
import { SCALE_FULL, type ScaleSizes } from './lib/scale';
import { runBench } from './lib/runner';
import { ALL_TARGETS, freshSlot, releaseSlot, ROOT, start, unavailable, type TargetName } from './lib/targets';

interface Cli {
  sizes: Sizes;
  targets: TargetName[];
  only?: string[];
  skipMemory: boolean;
  docs: boolean;
  report?: string;
  profile: boolean;
  profileSeconds: number;
  auth: boolean;
  tls: boolean;
  scale?: ScaleSizes;
}

function parseArgs(argv: string[]): Cli {
  const cli: Cli = {
    sizes: { ...FULL },
    targets: [...ALL_TARGETS],
    skipMemory: false,
    docs: true,
    profile: false,
    profileSeconds: 8,
    auth: false,
    tls: false,
  };
  const overrides: Partial<Sizes> = {};
  let scaleKeys: number | undefined;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const next = () => {
      const v = argv[++i];
      if (v === undefined) usage(`${a} needs a value`);
      return v;
    };
    if (a === '--quick') cli.sizes = { ...QUICK };
    else if (a === '--targets') {
      const ts = next()
        .split(',')
        .map((t) => t.trim()) as TargetName[];
      for (const t of ts) if (!ALL_TARGETS.includes(t)) usage(`unknown target ${t} (one of ${ALL_TARGETS.join(', ')})`);
      cli.targets = ts;
    } else if (a === '--only') cli.only = next().split(',');
    else if (a === '--rounds') overrides.rounds = positive(a, next());
    else if (a === '--duration') overrides.duration = overrides.watchDuration = positive(a, next());
    else if (a === '--no-memory') cli.skipMemory = true;
    else if (a === '--no-docs') cli.docs = false;
    else if (a === '--report') cli.report = next();
    else if (a === '--profile') cli.profile = true;
    else if (a === '--auth') cli.auth = true;
    else if (a === '--tls') cli.tls = true;
    else if (a === '--scale') cli.scale ??= { ...SCALE_FULL };
    else if (a === '--scale-keys') scaleKeys = positive(a, next());
    else if (a === '--profile-seconds') cli.profileSeconds = positive(a, next());
    else if (a === '--help' || a === '-h') usage();
    else usage(`unknown option ${a}`);
  }
  cli.sizes = { ...cli.sizes, ...overrides };
  if (cli.only?.includes('scale')) {
    cli.scale ??= { ...SCALE_FULL };
    cli.only = cli.only.filter((id) => id !== 'scale');
    // `--only scale`: the scale workload alone.
    if (cli.only.length === 0) cli.skipMemory = true;
  }
  if (cli.scale && scaleKeys) cli.scale.keys = Math.round(scaleKeys);
  if (cli.auth || cli.tls) {
    cli.only ??= AUTH_WORKLOADS;
    cli.scale = undefined;
    cli.skipMemory = true;
    // The tables of docs/benchmarks.md are the figures without auth or TLS.
    cli.docs = false;
  }
  if (cli.only) {
    const known = [...workloads(cli.sizes).map((w) => w.id)];
    for (const id of cli.only) if (!known.includes(id)) usage(`unknown workload ${id} (one of ${known.join(', ')})`);
  }
  return cli;
}

function positive(flag: string, v: string): number {
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0) usage(`${flag} needs a positive number`);
  return n;
}

function usage(msg?: string): never {
  if (msg) process.stderr.write(`error: ${msg}\n`);
  process.stderr.write(
    'usage: npm run bench -- [--quick] [--targets sqlite,postgres,mysql,etcd] [--only id,...] [--rounds N] [--duration S]\n' +
      '                        [--no-memory] [--no-docs] [--report results.jsonl[,...]] [--profile [--profile-seconds S]] [--auth] [--tls]\n' +
      '                        [--scale [--scale-keys N]] (--only scale: the scale workload alone)\n',
  );
  process.exit(msg ? 2 : 0);
}

function stamp(): string {
  return new Date().toISOString().replace(/:/g, '-').replace(/\..*$/, '');
}

const log = (m: string) => process.stderr.write(`${m}\n`);
const DOCS = path.join(ROOT, 'docs/benchmarks.md');

async function benchmark(cli: Cli): Promise<void> {
  const t0 = Date.now();
  log('building the load generator (Go, GOPATH mode, offline)…');
  const loadgen = buildLoadgen();
  const resultsDir = path.join(BENCH_DIR, 'results');
  mkdirSync(resultsDir, { recursive: true });
  const file = path.join(resultsDir, `${stamp()}.jsonl`);
  log(`results: ${path.relative(ROOT, file)}`);
  const tls = cli.tls ? makeBenchTls() : undefined;
  const lines = await runBench({
    sizes: cli.sizes,
    targets: cli.targets,
    loadgen,
    only: cli.only,
    skipMemory: cli.skipMemory,
    auth: cli.auth,
    tls,
    scale: cli.scale,
    log,
    emit: (l) => appendFileSync(file, `${JSON.stringify(l)}\n`),
  });
  if (tls) removeBenchTls(tls);
  const secs = (Date.now() - t0) / 1000;
  appendFileSync(file, `${JSON.stringify({ run: lines[0]?.run, kind: 'done', wall_s: Math.round(secs) })}\n`);
  if (lines.some((l) => l.kind === 'result' && l.group !== 'scale')) process.stdout.write(`\n${renderTables(lines)}\n`);
  if (cli.scale) process.stdout.write(`\n${renderScale(lines).join('\n')}\n`);
  if (cli.docs) {
    writeDocs(DOCS, [{ file: path.relative(ROOT, file), lines }]);
    log(`wrote ${path.relative(ROOT, DOCS)}`);
  }
  const whole = Math.round(secs);
  log(`benchmark took ${Math.floor(whole / 60)} min ${whole % 60} s`);
}

/** strata on SQLite under node --cpu-prof, one server per workload; summaries on stdout. */
async function profile(cli: Cli): Promise<void> {
  const why = unavailable('sqlite');
  if (why) throw new Error(why);
  const loadgen = buildLoadgen();
  const ids = cli.only ?? ['put-64', 'get-lin-64', 'txn-update-64', 'txn-create-64'];
  const plan = workloads({ ...cli.sizes, duration: cli.profileSeconds, watchDuration: cli.profileSeconds, warmup: 0.5 }).filter((w) =>
    ids.includes(w.id),
  );
  const outDir = path.join(BENCH_DIR, '.build', 'profiles', stamp());
  mkdirSync(outDir, { recursive: true });
  const md: string[] = [];
  for (const w of plan) {
    const slot = await freshSlot('sqlite');
    const profDir = mkdtempSync(path.join(tmpdir(), 'strata-prof-'));
    try {
      const server = await start(slot, {
        loadgen,
        nodeArgs: ['--cpu-prof', '--cpu-prof-dir', profDir, '--cpu-prof-name', `${w.id}.cpuprofile`],
      });
      const [res] = await runLoadgen(loadgen, { endpoint: server.address, ...w.args, pids: server.pids(), tag: `profile/${w.id}` });
      await server.child.stop();
      const files = readdirSync(profDir).filter((f) => f.endsWith('.cpuprofile'));
      if (files.length === 0) throw new Error(`no profile written for ${w.id}: ${server.child.output().slice(-1000)}`);
      const dest = path.join(outDir, files[0]);
      copyFileSync(path.join(profDir, files[0]), dest);
      const s = summarise(readProfile(dest), 25);
      const figure =
        w.group === 'watch'
          ? `delivery p50 ${String(res.p50_ms)} ms, p99 ${String(res.p99_ms)} ms`
          : `${String(res.ops_per_s)} ops/s, p99 ${String(res.p99_ms)} ms`;
      const title = `${w.id} on SQLite under --cpu-prof: ${figure}, server CPU ${String(res.server_cpu_pct)}%, client CPU ${String(res.client_cpu_pct)}%`;
      md.push(renderSummary(title, s));
      log(`profiled ${w.id}: ${path.relative(ROOT, dest)}`);
    } finally {
      rmSync(profDir, { recursive: true, force: true });
      releaseSlot(slot);
    }
  }
  const summaryFile = path.join(outDir, 'summary.md');
  writeFileSync(summaryFile, md.join('\n'));
  process.stdout.write(md.join('\n'));
  log(`profiles and summary: ${path.relative(ROOT, outDir)}`);
}

async function main(): Promise<void> {
  const cli = parseArgs(process.argv.slice(2));
  if (cli.report) {
    const runs = cli.report.split(',').map((f) => ({ file: path.relative(ROOT, path.resolve(f)), lines: readLines(f) }));
    const lines = runs.flatMap((r) => r.lines);
    process.stdout.write(`${renderTables(lines)}\n\n${renderScale(lines).join('\n')}\n`);
    if (cli.docs) writeDocs(DOCS, runs);
    return;
  }
  if (cli.profile) return profile(cli);
  return benchmark(cli);
}

main().catch((e: unknown) => {
  process.stderr.write(`bench failed: ${(e as Error)?.stack ?? String(e)}\n`);
  process.exit(1);
});
