/**
 * The scale workload (`npm run bench -- --scale`): on each target in turn, alone on the machine,
 * a million keys loaded with plain puts at 64 in flight (the worst put latency and RSS after it),
 * every key overwritten once more (RSS with twice the history), a restart until a linearizable get
 * is answered, and a full physical compaction to the latest revision while puts and gets run at a
 * modest rate beside it (their worst latency, RSS after it).
 */
import { runLoadgen, type Line } from './loadgen';
import { loadAverage, rssMiB, run, sleep } from './proc';
import { DB_NAME, freshSlot, psql, releaseSlot, start, type Slot, type Started, type TargetName } from './targets';

export interface ScaleSizes {
  keys: number;
  valueSize: number;
  /** Plain puts in flight while loading. */
  conc: number;
  /** The overwrite: txns of this many puts, historyConc in flight (its figure is memory, not latency). */
  historyBatch: number;
  historyConc: number;
  /** Puts/s and gets/s beside the compaction. */
  compactRate: number;
  /** Seconds the compaction's window stays open after it returned (deferred work still counts). */
  compactTail: number;
  /** Seconds after which a compaction still running is reported unfinished. */
  compactGiveUp: number;
}

export const SCALE_FULL: ScaleSizes = {
  keys: 1_000_000,
  valueSize: 256,
  conc: 64,
  historyBatch: 100,
  historyConc: 8,
  compactRate: 100,
  compactTail: 3,
  compactGiveUp: 180,
};

export const SCALE_SMOKE: ScaleSizes = { ...SCALE_FULL, keys: 3_000, compactRate: 50, compactTail: 0.5 };

/** The scale figures are for SQLite and PostgreSQL, against etcd on the same data. */
export const SCALE_TARGETS: TargetName[] = ['etcd', 'sqlite', 'postgres'];

const PREFIX = 'bench/scale/';
const HOUR = 3_600_000;

/** Disk used by the target's data: its data dir, or PostgreSQL's database. */
function diskMiB(slot: Slot): number {
  if (slot.target === 'postgres') {
    const r = psql(`select pg_database_size('${DB_NAME}')`);
    return r.code === 0 ? Math.round(Number(r.stdout.trim()) / 2 ** 20) : NaN;
  }
  const r = run('/usr/bin/du', ['-sm', slot.dataDir]);
  return r.code === 0 ? Number(r.stdout.split('\t')[0]) : NaN;
}

/** RSS 1 s after a step, when pending commits and timers have run. */
async function settledRss(server: Started): Promise<number> {
  await sleep(1000);
  return Math.round(rssMiB(server.child.pid) * 10) / 10;
}

export async function runScale(
  loadgen: string,
  target: TargetName,
  sizes: ScaleSizes,
  emit: (l: Line) => void,
  log: (m: string) => void,
): Promise<void> {
  const slot = await freshSlot(target);
  let server: Started | undefined;
  const result = (id: string, fields: Line) =>
    emit({ kind: 'result', target, round: 0, id, group: 'scale', keys: sizes.keys, load_avg: loadAverage(), ...fields });
  try {
    server = await start(slot, { loadgen });
    const up = server;
    const rssEmpty = rssMiB(up.child.pid);
    const fill = (seed: number, batch: number, conc: number) =>
      runLoadgen(
        loadgen,
        {
          endpoint: up.address,
          workload: 'fill',
          keys: sizes.keys,
          'value-size': sizes.valueSize,
          prefix: PREFIX,
          conc,
          batch,
          seed,
          timeout: '300s',
          pids: up.pids(),
        },
        HOUR,
      ).then((l) => l[0]);

    const load = await fill(1, 1, sizes.conc);
    const rssLoad = await settledRss(up);
    result('scale-load', { ...load, rss_mib: rssLoad, rss_empty_mib: Math.round(rssEmpty * 10) / 10, disk_mib: diskMiB(slot) });
    log(`  ${target} scale load: ${String(load.keys_per_s)} puts/s, worst ${String(load.max_ms)} ms, RSS ${String(rssLoad)} MiB`);

    const history = await fill(2, sizes.historyBatch, sizes.historyConc);
    const rssHistory = await settledRss(up);
    result('scale-history', { ...history, rss_mib: rssHistory, disk_mib: diskMiB(slot) });
    log(`  ${target} scale history: every key overwritten in ${String(history.duration_s)} s, RSS ${String(rssHistory)} MiB`);

    const stopCode = await up.child.stop(60_000);
    server = undefined;
    const again = await start(slot, { loadgen, timeoutMs: 900_000 });
    server = again;
    result('scale-restart', { ready_s: again.readySeconds, stop_exit_code: stopCode, rss_mib: await settledRss(again) });
    log(`  ${target} scale restart: answered a linearizable get ${again.readySeconds.toFixed(2)} s after spawn`);

    const [compact] = await runLoadgen(
      loadgen,
      {
        endpoint: again.address,
        workload: 'compact',
        keys: sizes.keys,
        'value-size': sizes.valueSize,
        prefix: PREFIX,
        rate: sizes.compactRate,
        warmup: '1s',
        duration: `${sizes.compactTail}s`,
        'give-up': `${sizes.compactGiveUp}s`,
        timeout: '60s',
        pids: again.pids(),
      },
      HOUR,
    );
    const rssCompact = await settledRss(again);
    result('scale-compact', { ...compact, rss_mib: rssCompact, disk_mib: diskMiB(slot) });
    log(
      `  ${target} scale compaction: ${String(compact.compact_s)} s${compact.compact_finished ? '' : ' (unfinished)'}, worst put ${String(compact.put_max_ms)} ms / get ${String(compact.get_max_ms)} ms, RSS ${String(rssCompact)} MiB`,
    );
  } finally {
    await server?.child.stop(60_000);
    releaseSlot(slot);
  }
}
