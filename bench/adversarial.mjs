#!/usr/bin/env node
/**
 * The adversarial figures of the hardening work, for strata or etcd alike (run it against each):
 *   node bench/adversarial.mjs <host:port> <server pid>
 * 1. p99 of another client's Range while one client trickles an unfinished 4.5 MB gateway watch
 *    body in 16 KiB chunks, and the server CPU that client costs;
 * 2. the same while a client opens a watch over a busy key range and never reads;
 * 3. RSS (and, for strata, heap in use after a forced GC where available) before, with and after
 *    10,000 watches on one stream.
 * Linux only (reads /proc/<pid>). Prints one JSON object.
 */
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const grpc = require('@grpc/grpc-js');
const protoLoader = require('@grpc/proto-loader');

const here = path.dirname(fileURLToPath(import.meta.url));
const def = protoLoader.loadSync(['rpc.proto'], {
  includeDirs: [path.join(here, '..', 'proto')],
  keepCase: true,
  longs: String,
  defaults: true,
  oneofs: true,
});
const pb = grpc.loadPackageDefinition(def).etcdserverpb;

const [address, pidArg] = process.argv.slice(2);
if (!address || !pidArg) {
  console.error('usage: node bench/adversarial.mjs <host:port> <server pid>');
  process.exit(2);
}
const pid = Number(pidArg);
const [host, port] = address.split(':');
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const rssMB = () => Number(/VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))[1]) / 1024;
const cpuMs = () => {
  const f = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return ((Number(f[11]) + Number(f[12])) * 1000) / 100;
};
const creds = grpc.credentials.createInsecure();

/** Range latencies (ms) of one steady client while `hostile()` runs; returns p50/p99/max. */
async function rangeLatency(hostile, ms) {
  const kv = new pb.KV(address, creds);
  const lat = [];
  let stop = false;
  const loop = (async () => {
    while (!stop) {
      const t = process.hrtime.bigint();
      await new Promise((res, rej) => kv.Range({ key: Buffer.from('adv/key') }, (e) => (e ? rej(e) : res())));
      lat.push(Number(process.hrtime.bigint() - t) / 1e6);
      await sleep(5);
    }
  })();
  const cpu0 = cpuMs();
  await Promise.all([hostile(), sleep(ms)]);
  const cpu = cpuMs() - cpu0;
  stop = true;
  await loop;
  kv.close();
  lat.sort((a, b) => a - b);
  const q = (p) => +lat[Math.min(lat.length - 1, Math.floor(p * lat.length))].toFixed(2);
  return { samples: lat.length, p50_ms: q(0.5), p99_ms: q(0.99), max_ms: +lat[lat.length - 1].toFixed(2), server_cpu_ms: Math.round(cpu) };
}

/** One client sends an unfinished watch body: 4.5 MB of a string, 16 KiB at a time. */
function trickleBody() {
  return new Promise((resolve) => {
    const req = http.request({ host, port, path: '/v3/watch', method: 'POST', agent: false });
    req.on('error', () => resolve());
    req.on('response', (res) => {
      res.resume();
      res.on('close', resolve);
    });
    req.write('{"create_request":{"key":"');
    const chunk = Buffer.alloc(16 * 1024, 'QUFB');
    let sent = 0;
    const tick = () => {
      if (sent >= 4.5 * 1024 * 1024 || req.destroyed) {
        req.destroy();
        return resolve();
      }
      sent += chunk.length;
      req.write(chunk, () => setImmediate(tick));
    };
    tick();
  });
}

/** A client that watches a busy range and never reads, while another writes 1 KiB values. */
async function slowConsumer() {
  const w = new pb.Watch(address, creds);
  const kv = new pb.KV(address, creds);
  const s = w.Watch();
  s.on('error', () => undefined);
  s.pause();
  s.write({ create_request: { key: Buffer.from('adv/slow/'), range_end: Buffer.from('adv/slow0') } });
  const value = Buffer.alloc(1024, 'v');
  for (let i = 0; i < 3000; i++) {
    await new Promise((res) => kv.Put({ key: Buffer.from(`adv/slow/${i % 50}`), value }, () => res()));
  }
  s.cancel();
  w.close();
  kv.close();
}

async function manyWatches() {
  const w = new pb.Watch(address, creds);
  await sleep(300);
  const before = rssMB();
  const s = w.Watch();
  s.on('error', () => undefined);
  let created = 0;
  const all = new Promise((res) =>
    s.on('data', (m) => {
      if (m.created && ++created === 10_000) res();
    }),
  );
  for (let i = 0; i < 10_000; i++) s.write({ create_request: { key: Buffer.from(`adv/w/${i}`) } });
  await all;
  const withWatches = rssMB();
  s.cancel();
  await sleep(3000);
  const after = rssMB();
  w.close();
  return {
    rss_before_mb: +before.toFixed(1),
    rss_with_10000_watches_mb: +withWatches.toFixed(1),
    rss_3s_after_close_mb: +after.toFixed(1),
  };
}

const kv = new pb.KV(address, creds);
await new Promise((res) => kv.Put({ key: Buffer.from('adv/key'), value: Buffer.from('v') }, () => res()));
kv.close();
const out = {
  address,
  baseline: await rangeLatency(() => sleep(0), 3000),
  trickled_4_5mb_watch_body: await rangeLatency(trickleBody, 3000),
  slow_consumer: await rangeLatency(slowConsumer, 3000),
  watches: await manyWatches(),
};
console.log(JSON.stringify(out, null, 2));
process.exit(0);
