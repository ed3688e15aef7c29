/**
 * The soak: a client that never compacts writes --rate puts/s over --keys keys to strata with its
 * default flags (plus --strata-args), for --minutes. Every --sample seconds it reads strata's
 * /metrics: database size, RSS, keys, revision, compactions. It prints the curve and the start,
 * middle and end figures, and writes every sample to bench/results/soak-<backend>-<time>.jsonl.
 *
 *   npm run soak -- --backend sqlite --minutes 30
 *   npm run soak -- --backend postgres --minutes 5 --strata-args "--auto-compaction-retention 1m"
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { freePort, sleep, spawnChild } from './lib/proc';
import { endpointOf, freshSlot, releaseSlot, ROOT, STRATA_BIN, type TargetName } from './lib/targets';

interface Options {
  backend: TargetName;
  minutes: number;
  rate: number;
  keys: number;
  valueBytes: number;
  sampleSeconds: number;
  strataArgs: string[];
}

function options(argv: string[]): Options {
  const o: Options = { backend: 'sqlite', minutes: 30, rate: 500, keys: 10_000, valueBytes: 128, sampleSeconds: 10, strataArgs: [] };
  for (let i = 0; i < argv.length; i++) {
    const v = argv[i + 1];
    switch (argv[i]) {
      case '--backend':
        o.backend = v as TargetName;
        break;
      case '--minutes':
        o.minutes = Number(v);
        break;
      case '--rate':
        o.rate = Number(v);
        break;
      case '--keys':
        o.keys = Number(v);
        break;
      case '--value-bytes':
        o.valueBytes = Number(v);
        break;
      case '--sample':
        o.sampleSeconds = Number(v);
        break;
      case '--strata-args':
        o.strataArgs = v.split(/\s+/).filter(Boolean);
        break;
      default:
        throw new Error(`unknown option ${argv[i]}`);
    }
    i++;
  }
  if (!['sqlite', 'postgres', 'mysql'].includes(o.backend)) throw new Error('--backend is sqlite, postgres or mysql');
  return o;
}

interface Sample {
  t: number;
  dbBytes: number;
  rssBytes: number;
  keys: number;
  revision: number;
  compactRevision: number;
  compactions: number;
  puts: number;
  failedPuts: number;
}

function metric(text: string, name: string): number {
  const m = new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, 'm').exec(text);
  return m ? Number(m[1]) : NaN;
}

async function scrape(url: string): Promise<string> {
  const r = await fetch(`${url}/metrics`);
  return r.text();
}

type PutFn = (req: { key: Buffer; value: Buffer }, cb: (err: grpc.ServiceError | null) => void) => void;

function kvClient(address: string): { put: PutFn; close(): void } {
  const def = protoLoader.loadSync(['rpc.proto'], { includeDirs: [path.join(ROOT, 'proto')], keepCase: true, longs: String });
  const pkg = grpc.loadPackageDefinition(def).etcdserverpb as unknown as Record<string, grpc.ServiceClientConstructor>;
  const c = new pkg.KV(address, grpc.credentials.createInsecure());
  const put = (c as unknown as { Put: PutFn }).Put.bind(c);
  return { put, close: () => c.close() };
}

async function main(): Promise<void> {
  const o = options(process.argv.slice(2));
  const slot = await freshSlot(o.backend);
  const port = await freePort();
  const address = `127.0.0.1:${port}`;
  const url = `http://${address}`;
  const strata = spawnChild(process.execPath, [
    STRATA_BIN,
    '--listen-address',
    address,
    '--endpoint',
    endpointOf(o.backend, slot.dataDir),
    '--log-level',
    'info',
    ...o.strataArgs,
  ]);
  const samples: Sample[] = [];
  let puts = 0;
  let failedPuts = 0;
  try {
    for (let i = 0; ; i++) {
      if (strata.dead()) throw new Error(`strata exited:\n${strata.output()}`);
      if (
        await scrape(url).then(
          () => true,
          () => false,
        )
      )
        break;
      if (i > 200) throw new Error('strata did not start');
      await sleep(100);
    }
    const kv = kvClient(address);
    const value = Buffer.alloc(o.valueBytes, 'v');
    const started = Date.now();
    const end = started + o.minutes * 60_000;
    // Open loop: every 20 ms the puts due by now are sent, whether or not earlier ones returned.
    let sent = 0;
    const writer = setInterval(() => {
      const due = Math.floor(((Date.now() - started) / 1000) * o.rate);
      for (; sent < due; sent++) {
        const key = Buffer.from(`soak/${String(sent % o.keys).padStart(5, '0')}`);
        kv.put({ key, value }, (err) => (err ? failedPuts++ : puts++));
      }
    }, 20);
    const sample = async () => {
      const text = await scrape(url);
      const s: Sample = {
        t: Math.round((Date.now() - started) / 1000),
        dbBytes: metric(text, 'etcd_mvcc_db_total_size_in_bytes'),
        rssBytes: metric(text, 'process_resident_memory_bytes'),
        keys: metric(text, 'etcd_debugging_mvcc_keys_total'),
        revision: metric(text, 'strata_revision'),
        compactRevision: metric(text, 'etcd_mvcc_db_compaction_revision'),
        compactions: metric(text, 'strata_auto_compactions_total\\{result="compacted"\\}'),
        puts,
        failedPuts,
      };
      samples.push(s);
      process.stdout.write(
        `${String(s.t).padStart(5)} s  db ${(s.dbBytes / 2 ** 20).toFixed(1).padStart(7)} MiB  rss ${(s.rssBytes / 2 ** 20).toFixed(1).padStart(7)} MiB  keys ${s.keys}  rev ${s.revision}  compacted to ${s.compactRevision} (${s.compactions}×)  puts ${s.puts} failed ${s.failedPuts}\n`,
      );
    };
    await sample();
    while (Date.now() < end) {
      await sleep(Math.min(o.sampleSeconds * 1000, end - Date.now()));
      await sample();
    }
    clearInterval(writer);
    kv.close();
  } finally {
    const code = await strata.stop(10_000);
    if (code !== 0) process.stderr.write(`strata exited ${code}:\n${strata.output()}\n`);
    releaseSlot(slot);
  }
  const at = (f: number) => samples[Math.min(samples.length - 1, Math.round((samples.length - 1) * f))];
  const mib = (n: number) => `${(n / 2 ** 20).toFixed(1)} MiB`;
  process.stdout.write(
    `\n${o.backend}, ${o.rate} puts/s over ${o.keys} keys, ${o.minutes} min, strata ${o.strataArgs.join(' ') || '(defaults)'}\n`,
  );
  for (const [name, s] of [
    ['start', at(0)],
    ['middle', at(0.5)],
    ['end', at(1)],
  ] as const) {
    process.stdout.write(`${name.padEnd(7)} t=${s.t}s db=${mib(s.dbBytes)} rss=${mib(s.rssBytes)} compactions=${s.compactions}\n`);
  }
  const dir = path.join(ROOT, 'bench/results');
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `soak-${o.backend}-${new Date().toISOString().replace(/[:.]/g, '-')}.jsonl`);
  writeFileSync(file, samples.map((s) => JSON.stringify({ backend: o.backend, ...s })).join('\n') + '\n');
  process.stdout.write(`samples: ${path.relative(ROOT, file)}\n`);
}

main().catch((e: unknown) => {
  process.stderr.write(`soak: ${(e as Error).message}\n`);
  process.exit(1);
});
