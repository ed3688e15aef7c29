/**
 * Runs the plan. Each round starts every target on a fresh data dir, then runs each workload on all
 * of them back to back (the order of targets rotates per round), then takes the memory figure and
 * the restart of each target on a second fresh data dir. Every measurement becomes one JSON line.
 */
import { cpus, release, totalmem } from 'node:os';
import { BENCH_USER, enableAuth } from './auth';
import { clientTlsArgs, type BenchTls } from './tls';
import { runLoadgen, type Line } from './loadgen';
import { workloads, type Sizes } from './plan';
import { loadAverage, rssMiB, run, sleep } from './proc';
import { runScale, SCALE_TARGETS, type ScaleSizes } from './scale';
import {
  ETCD_BIN,
  ROOT,
  SkipTarget,
  freshSlot,
  releaseSlot,
  start,
  unavailable,
  type Slot,
  type Started,
  type TargetName,
} from './targets';

export interface RunOptions {
  sizes: Sizes;
  targets: TargetName[];
  loadgen: string;
  /** Called with every line as soon as it exists (the driver appends it to the results file). */
  emit?: (line: Line) => void;
  log?: (msg: string) => void;
  /** Skip the memory/restart figure (it loads memKeys keys per target and round). */
  skipMemory?: boolean;
  /** Only these workload ids (default: all). */
  only?: string[];
  /** The --auth variant: auth on in every target, the load generator logged in as a user with a prefix role. */
  auth?: boolean;
  /** The --tls variant: every target serves mTLS, the load generator presents a client certificate. */
  tls?: BenchTls;
  /** The scale workload (--scale), after the rounds, on SCALE_TARGETS among `targets`. */
  scale?: ScaleSizes;
}

function firstLine(s: string): string {
  return s.trim().split('\n')[0] ?? '';
}

/** A description of this machine and of the versions under test. */
export function machineLine(): Line {
  const c = cpus();
  const ver = (bin: string, args: string[], pick: (s: string) => string) => {
    const r = run(bin, args, { timeoutMs: 10_000 });
    return r.code === 0 ? pick(r.stdout) : 'not available';
  };
  const meminfo = run('/bin/cat', ['/proc/meminfo']).stdout;
  // Which strata was measured: the commit, and whether src/ had uncommitted changes (dist/ is built from the tree).
  const git = (args: string[]) => run('git', ['-C', ROOT, ...args], { timeoutMs: 10_000 });
  const commit = git(['rev-parse', '--short', 'HEAD']);
  const dirty = git(['status', '--porcelain', '--', 'src']);
  const memTotal = /MemTotal:\s+(\d+)/.exec(meminfo);
  return {
    kind: 'machine',
    cores: c.length,
    cpu_model: c[0]?.model ?? 'unknown',
    mem_gib: Math.round(((memTotal ? Number(memTotal[1]) * 1024 : totalmem()) / 2 ** 30) * 10) / 10,
    kernel: release(),
    node: process.version,
    etcd: ver(ETCD_BIN, ['--version'], (s) => firstLine(s).replace(/^etcd Version:\s*/, '')),
    go: ver('/usr/bin/go', ['version'], firstLine),
    postgres: ver('/usr/bin/psql', ['-h', '127.0.0.1', '-U', 'postgres', '-d', 'postgres', '-Atc', 'show server_version'], firstLine),
    mariadb: ver('/usr/bin/mariadb', ['--protocol=tcp', '-h', '127.0.0.1', '-u', 'root', '-Nse', 'select version()'], firstLine),
    strata_commit: commit.code === 0 ? commit.stdout.trim() : 'unknown',
    strata_src_dirty: dirty.code === 0 ? dirty.stdout.trim().length > 0 : null,
    load_avg: loadAverage(),
  };
}

export async function runBench(opts: RunOptions): Promise<Line[]> {
  const lines: Line[] = [];
  const runId = new Date().toISOString();
  const log = opts.log ?? (() => undefined);
  const emit = (l: Line) => {
    const line = { run: runId, ...l };
    lines.push(line);
    opts.emit?.(line);
  };
  emit(machineLine());
  emit({
    kind: 'plan',
    sizes: opts.sizes as unknown as Record<string, unknown>,
    targets: opts.targets,
    ...(opts.scale ? { scale: opts.scale } : {}),
  });

  const active: TargetName[] = [];
  for (const t of opts.targets) {
    const why = unavailable(t);
    if (why) {
      log(`SKIPPED ${t}: ${why}`);
      emit({ kind: 'skip', target: t, reason: why });
    } else active.push(t);
  }
  const plan = workloads(opts.sizes).filter((w) => !opts.only || opts.only.includes(w.id));
  const skipped = new Set<TargetName>();
  // A scale-only run (no workload, no memory figure) starts no round at all.
  const rounds = plan.length > 0 || !opts.skipMemory ? opts.sizes.rounds : 0;

  for (let round = 0; round < rounds; round++) {
    const order = active.filter((t) => !skipped.has(t)).map((_, i, live) => live[(i + round) % live.length]);
    // 1. Every target on a fresh server, all up at once, so each workload runs on every target back
    //    to back: the figures compared are seconds apart, not minutes, and a change in the machine's
    //    other load hits all targets alike. The servers not being measured are paused (SIGSTOP):
    //    an idle strata on MySQL still polls its log every 20 ms, about 5% of a core.
    const up = new Map<TargetName, { slot: Slot; server: Started }>();
    try {
      for (const target of order) {
        const slot = await freshSlot(target);
        try {
          const server = await start(slot, { loadgen: opts.loadgen, tls: opts.tls });
          if (opts.auth) enableAuth(server.address, opts.tls);
          server.child.pause();
          up.set(target, { slot, server });
          log(`round ${round + 1}/${opts.sizes.rounds} ${target}: started in ${server.readySeconds.toFixed(2)} s`);
        } catch (e) {
          releaseSlot(slot);
          if (e instanceof SkipTarget) {
            skipped.add(target);
            log(`SKIPPED ${target}: ${e.message}`);
            emit({ kind: 'skip', target, reason: e.message });
          } else {
            emit({ kind: 'error', target, round, id: 'server', error: (e as Error).message });
            log(`  ${target}: ERROR ${(e as Error).message}`);
          }
        }
      }
      for (const w of plan) {
        for (const [target, { server }] of up) {
          const tag = { target, round };
          server.child.resume();
          await sleep(100); // let timers that fell due while paused run before the window opens
          try {
            const [res] = await runLoadgen(opts.loadgen, {
              endpoint: server.address,
              ...w.args,
              ...(opts.auth ? BENCH_USER : {}),
              ...(opts.tls ? clientTlsArgs(opts.tls) : {}),
              pids: server.pids(),
              tag: `${target}/${round}/${w.id}`,
            });
            emit({
              kind: 'result',
              ...tag,
              id: w.id,
              group: w.group,
              auth: opts.auth === true,
              tls: opts.tls !== undefined,
              load_avg: loadAverage(),
              ...res,
            });
            log(`  ${target} ${w.id}: ${summary(res)}`);
          } catch (e) {
            emit({ kind: 'error', ...tag, id: w.id, error: (e as Error).message });
            log(`  ${target} ${w.id}: ERROR ${(e as Error).message}`);
          } finally {
            server.child.pause();
          }
          if (server.child.dead()) {
            const msg = `${target} died during ${w.id}: ${server.child.output().slice(-2000)}`;
            emit({ kind: 'error', ...tag, id: 'server', error: msg });
            log(`  ${msg}`);
            up.delete(target);
          }
        }
      }
    } finally {
      for (const { slot, server } of up.values()) {
        await server.child.stop();
        releaseSlot(slot);
      }
    }
    // 2. Memory after loading memKeys keys, then the time to restart on that database: one target
    //    at a time (loading is the heaviest step, and RSS should not depend on a neighbour).
    if (opts.skipMemory) continue;
    for (const target of order) {
      if (skipped.has(target)) continue;
      const tag = { target, round };
      await memoryAndRestart(opts, target, tag, emit, log).catch((e: Error) => {
        emit({ kind: 'error', ...tag, id: 'memory', error: e.message });
        log(`  ${target} memory: ERROR ${e.message}`);
      });
    }
  }
  // 3. The scale workload: one target at a time, each alone on the machine.
  if (opts.scale) {
    for (const target of SCALE_TARGETS.filter((t) => active.includes(t) && !skipped.has(t))) {
      log(`scale ${target}: ${opts.scale.keys} keys…`);
      await runScale(opts.loadgen, target, opts.scale, emit, log).catch((e: Error) => {
        emit({ kind: 'error', target, round: 0, id: 'scale', error: e.message });
        log(`  ${target} scale: ERROR ${e.message}`);
      });
    }
  }
  return lines;
}

async function memoryAndRestart(
  opts: RunOptions,
  target: TargetName,
  tag: { target: TargetName; round: number },
  emit: (l: Line) => void,
  log: (m: string) => void,
): Promise<void> {
  const s = opts.sizes;
  const slot = await freshSlot(target);
  let server: Started | undefined;
  try {
    server = await start(slot, { loadgen: opts.loadgen });
    const rssEmpty = rssMiB(server.child.pid);
    const [load] = await runLoadgen(
      opts.loadgen,
      {
        endpoint: server.address,
        workload: 'load',
        keys: s.memKeys,
        'value-size': s.memValueSize,
        prefix: 'bench/mem/',
        batch: 100,
        pids: server.pids(),
      },
      600_000,
    );
    await sleep(1000); // let the server settle (pending commits, timers) before reading RSS
    const rss = rssMiB(server.child.pid);
    emit({
      kind: 'result',
      ...tag,
      id: 'memory',
      group: 'memory',
      keys: s.memKeys,
      value_size: s.memValueSize,
      rss_mib: round1(rss),
      rss_empty_mib: round1(rssEmpty),
      load_s: load.duration_s,
      server_cpu_s: load.server_cpu_s,
      client_cpu_s: load.client_cpu_s,
      db_cpu_s: load.db_cpu_s,
      load_avg: loadAverage(),
    });
    log(`  ${target} memory: RSS ${rss.toFixed(1)} MiB after ${s.memKeys} keys (loaded in ${String(load.duration_s)} s)`);
    const code = await server.child.stop();
    server = undefined;
    const restarted = await start(slot, { loadgen: opts.loadgen, timeoutMs: 120_000 });
    server = restarted;
    const rssAfter = rssMiB(restarted.child.pid);
    emit({
      kind: 'result',
      ...tag,
      id: 'restart',
      group: 'memory',
      keys: s.memKeys,
      ready_s: restarted.readySeconds,
      stop_exit_code: code,
      rss_after_restart_mib: round1(rssAfter),
      load_avg: loadAverage(),
    });
    log(`  ${target} restart: answered a linearizable get ${restarted.readySeconds.toFixed(2)} s after spawn`);
  } finally {
    await server?.child.stop();
    releaseSlot(slot);
  }
}

function round1(x: number): number {
  return Math.round(x * 10) / 10;
}

function summary(l: Line): string {
  if (l.workload === 'watch')
    return `p50 ${String(l.p50_ms)} ms p99 ${String(l.p99_ms)} ms, missing ${String(l.events_missing)}, server CPU ${String(l.server_cpu_pct)}%`;
  return `${String(l.ops_per_s)} ops/s p50 ${String(l.p50_ms)} ms p99 ${String(l.p99_ms)} ms, errors ${String(l.errors)}, CPU client ${String(l.client_cpu_pct)}% server ${String(l.server_cpu_pct)}%`;
}
