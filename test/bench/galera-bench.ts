/**
 * puts/s at 64 in flight (256 B values over 10,000 keys, the main bench's put-64) for strata on
 * plain MariaDB (the server on 3306), one instance on a Galera node, and three instances on three
 * Galera nodes (the load generator's 64 workers spread over one connection per instance), the
 * same three with --writer-election=on (one elected instance commits for all). Rounds
 * interleave the three; medians (min–max) are printed, the raw lines written to
 * bench/results/galera-<time>.jsonl. Not part of `npm test` (no `.test.ts`):
 *
 *   npm run build && npx vite-node test/bench/galera-bench.ts [rounds] [seconds]
 */
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import * as path from 'node:path';
import { buildLoadgen, runLoadgen, type Line } from '../../bench/lib/loadgen';
import { loadAverage } from '../../bench/lib/proc';
import { startGalera, type GaleraCluster } from '../helpers/galera';
import { startEtcd, startStrata, type Server } from '../helpers/servers';

const ROUNDS = Number(process.argv[2] ?? 3);
const SECONDS = Number(process.argv[3] ?? 5);
const DATABASE = 'strata_bench_galera';
/** The plain MariaDB server (helpers/targets.ts imports vitest, which this script cannot). */
const MYSQL_BASE = 'mysql://root@tcp(127.0.0.1:3306)';

function dropPlain(): void {
  const r = spawnSync('mysql', ['-uroot', '-h127.0.0.1', '-P3306', '-e', `DROP DATABASE IF EXISTS ${DATABASE}`], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`cannot drop ${DATABASE} on 3306: ${r.stderr}`);
}

interface Setup {
  id: string;
  /** mysql:// or galera:// endpoint of instance i. */
  endpoints: (g: GaleraCluster) => string[];
  drop: (g: GaleraCluster) => void;
  /** More strata flags. */
  args?: string[];
  /** Real etcd (one member) instead of strata: the reference the others are read against. */
  etcd?: boolean;
}

const ALL: Setup[] = [
  { id: 'etcd', endpoints: () => [''], drop: () => undefined, etcd: true },
  { id: 'mariadb-1', endpoints: () => [`${MYSQL_BASE}/${DATABASE}`], drop: dropPlain },
  {
    id: 'galera-1',
    endpoints: (g) => [`${g.base(0).replace(/^mysql:/, 'galera:')}/${DATABASE}`],
    drop: (g) => void g.sql(0, `DROP DATABASE IF EXISTS ${DATABASE}`),
  },
  {
    id: 'galera-3',
    endpoints: (g) => [0, 1, 2].map((i) => `${g.base(i).replace(/^mysql:/, 'galera:')}/${DATABASE}`),
    drop: (g) => void g.sql(0, `DROP DATABASE IF EXISTS ${DATABASE}`),
    args: ['--writer-election', 'off'],
  },
  {
    id: 'galera-3-forward',
    endpoints: (g) => [0, 1, 2].map((i) => `${g.base(i).replace(/^mysql:/, 'galera:')}/${DATABASE}`),
    drop: (g) => void g.sql(0, `DROP DATABASE IF EXISTS ${DATABASE}`),
    args: ['--writer-election', 'on'],
  },
];

/** A counter's value in a /metrics text (0 when absent). */
/** STRATA_BENCH_SETUPS: a comma list of the ids below, to measure only those. */
const SETUPS = ALL.filter((s) => !process.env.STRATA_BENCH_SETUPS || process.env.STRATA_BENCH_SETUPS.split(',').includes(s.id));

function metric(text: string, name: string): number {
  const m = new RegExp(`^${name} (\\S+)$`, 'm').exec(text);
  return m ? Number(m[1]) : 0;
}

/** CPU seconds (user + system) process `pid` has used so far, from /proc (clock ticks of 10 ms). */
function cpuSeconds(pid: number | undefined): number {
  if (!pid) return 0;
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

async function measure(bin: string, g: GaleraCluster, setup: Setup, round: number): Promise<Line> {
  setup.drop(g);
  const servers: Server[] = [];
  try {
    for (const e of setup.endpoints(g)) servers.push(setup.etcd ? await startEtcd() : await startStrata({ endpoint: e, args: setup.args }));
    const cpuBefore = servers.reduce((t, srv) => t + cpuSeconds(srv.proc.pid), 0);
    const [line] = await runLoadgen(bin, {
      endpoint: servers.map((s) => s.address).join(','),
      workload: 'put',
      conc: 64,
      conns: servers.length,
      keys: 10_000,
      'value-size': 256,
      prefix: 'bench/put/',
      duration: `${SECONDS}s`,
      warmup: '1s',
      tag: setup.id,
    });
    const serverCpu = servers.reduce((t, srv) => t + cpuSeconds(srv.proc.pid), 0) - cpuBefore;
    const counts = {
      batches: 0,
      retries: 0,
      forwarded: 0,
      fallbacks: 0,
      server_cpu_ms_per_op: (serverCpu * 1000) / Math.max(1, Number(line.ops)),
    };
    for (const srv of servers) {
      const text = await (await fetch(`http://${srv.address}/metrics`)).text();
      if (setup.etcd) continue;
      counts.batches += metric(text, 'strata_write_batches_total');
      counts.retries += metric(text, 'strata_sql_retries_total');
      counts.forwarded += metric(text, 'strata_forwarded_writes_total');
      counts.fallbacks += metric(text, 'strata_forward_fallbacks_total');
    }
    return { ...line, ...counts, setup: setup.id, round, instances: servers.length, load_average: loadAverage(), host: hostname() };
  } finally {
    for (const s of servers) {
      await s.stop();
      s.cleanup();
    }
    setup.drop(g);
  }
}

async function main(): Promise<void> {
  const bin = buildLoadgen();
  const g = await startGalera();
  const lines: Line[] = [];
  try {
    for (let round = 0; round < ROUNDS; round++) {
      // The order rotates, so no setup always runs on a machine warmed by the one before.
      for (let k = 0; k < SETUPS.length; k++) {
        const setup = SETUPS[(k + round) % SETUPS.length];
        const line = await measure(bin, g, setup, round);
        lines.push(line);
        process.stdout.write(`${JSON.stringify(line)}\n`);
      }
    }
  } finally {
    await g.stop();
  }
  const file = path.resolve(__dirname, '../../bench/results', `galera-${new Date().toISOString().replace(/[:.]/g, '-')}.jsonl`);
  writeFileSync(file, lines.map((l) => JSON.stringify(l)).join('\n') + '\n');
  for (const s of SETUPS) {
    const ops = lines.filter((l) => l.setup === s.id).map((l) => Number(l.ops_per_s));
    const p99 = lines.filter((l) => l.setup === s.id).map((l) => Number(l.p99_ms));
    const retried = lines.filter((l) => l.setup === s.id).map((l) => Number(l.retries) / Math.max(1, Number(l.batches)));
    const cpu = lines.filter((l) => l.setup === s.id).map((l) => Number(l.server_cpu_ms_per_op));
    process.stdout.write(
      `${s.id}: ${median(ops).toFixed(0)} puts/s (${Math.min(...ops).toFixed(0)}–${Math.max(...ops).toFixed(0)}), ` +
        `p99 ${median(p99).toFixed(1)} ms, ${median(retried).toFixed(2)} retries per committed batch, ` +
        `server CPU ${median(cpu).toFixed(3)} ms/put\n`,
    );
  }
  process.stdout.write(`raw: ${file}\n`);
}

void main().catch((e: unknown) => {
  process.stderr.write(`${(e as Error).stack ?? String(e)}\n`);
  process.exitCode = 1;
});
