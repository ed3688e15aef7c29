/**
 * Three instances on three Galera nodes under a 64-in-flight put load: linearizable reads and
 * compare-after-acknowledge never stale, a compare-and-swap counter exact with no client error,
 * every instance's share at least 20%; then kill -9 of a strata instance and of a Galera node
 * (and its IST restart) lose no acknowledged write, answer no survivor's request with an error,
 * and stall a survivor no longer than Galera's eviction time + 2 s. Also: batches stay under
 * wsrep_max_ws_size, and Defragment answers without rebuilding the tables. Run by galera-probe.ts
 * (every instance commits through the fence) and by galera-forward.test.ts (--writer-election=on:
 * the killed instance is then the elected writer).
 */
import { expect, test } from 'vitest';
import { b, createClient, prefixEnd, s, type EtcdClient, type Msg } from '../helpers/client';
import { GALERA_EVICTION_MS } from '../helpers/galera';
import { note } from '../helpers/notice';
import { sleep } from '../helpers/ports';
import { startStrata } from '../helpers/servers';
import { useGalera } from '../helpers/targets';
import { longestStall, shares, startPutLoad, type Ack } from './galera-load';
import { forEachSharedBackend, num } from './multi-harness';

const INSTANCES = 3;
const WIDTHS = [22, 21, 21]; // 64 in flight
const PROBE_MS = 10_000;
const CAS_CLIENTS = 12;

/** Options of one run of the probes: the instances' extra flags, and whether they forward to an elected writer. */
export interface ProbeOptions {
  args: string[];
  forwarding: boolean;
}

/** Which instance holds the writer lease now (its /metrics says so), or -1. */
async function writerIndex(addresses: string[]): Promise<number> {
  for (const [i, a] of addresses.entries()) {
    if (/^strata_writer_lease_held 1$/m.test(await (await fetch(`http://${a}/metrics`)).text())) return i;
  }
  return -1;
}

/** A counter's value in instance `address`'s /metrics (0 when absent). */
async function counterOf(address: string, name: string): Promise<number> {
  const m = new RegExp(`^${name} (\\S+)$`, 'm').exec(await (await fetch(`http://${address}/metrics`)).text());
  return m ? Number(m[1]) : 0;
}

export function galeraProbes(suite: string, o: ProbeOptions): void {
  forEachSharedBackend(
    suite,
    INSTANCES,
    (cl) => {
      test('10 s under load: reads and compares after an acknowledgement are never stale, CAS is exact, every instance gets ≥ 20%', async () => {
        const p = cl.prefix('probe');
        const load = startPutLoad(cl.clients, WIDTHS, `${p}load/`);
        const until = performance.now() + PROBE_MS;
        const errors: string[] = [];
        let probes = 0;
        let staleReads = 0;
        let staleCompares = 0;
        let maxLag = 0;

        // Writer i writes its own key; the next instance reads it, the one after compares on it.
        const probe = async (i: number): Promise<void> => {
          const key = b(`${p}probe/${i}`);
          for (let seq = 0; performance.now() < until; seq++) {
            try {
              const put = num((await cl.clients[i].kv.Put({ key, value: b(String(seq)) })).header.revision);
              const got = await cl.clients[(i + 1) % INSTANCES].kv.Range({ key });
              const mod = got.kvs.length > 0 ? num(got.kvs[0].mod_revision) : 0;
              if (mod < put) {
                staleReads++;
                maxLag = Math.max(maxLag, put - mod);
              }
              const t = await cl.clients[(i + 2) % INSTANCES].kv.Txn({
                compare: [{ key, target: 'MOD', result: 'EQUAL', mod_revision: put }],
              });
              if (!t.succeeded) staleCompares++;
              probes++;
            } catch (e) {
              errors.push(`probe ${i}: ${(e as Error).message}`);
            }
          }
        };

        // Compare-and-swap increments of one counter through every instance.
        const counter = b(`${p}counter`);
        let increments = 0;
        await cl.clients[0].kv.Put({ key: counter, value: b('0') });
        const cas = async (c: EtcdClient, who: number): Promise<void> => {
          while (performance.now() < until) {
            try {
              const cur = (await c.kv.Range({ key: counter })).kvs[0] as Msg;
              const t = await c.kv.Txn({
                compare: [{ key: counter, target: 'MOD', result: 'EQUAL', mod_revision: cur.mod_revision }],
                success: [{ request_put: { key: counter, value: b(String(Number(s(cur.value)) + 1)) } }],
              });
              if (t.succeeded) increments++;
            } catch (e) {
              errors.push(`cas ${who}: ${(e as Error).message}`);
            }
          }
        };

        await Promise.all([
          ...[0, 1, 2].map(probe),
          ...Array.from({ length: CAS_CLIENTS }, (_, k) => cas(cl.clients[k % INSTANCES], k)),
          sleep(PROBE_MS),
        ]);
        await load.stop();
        const final = Number(s(((await cl.clients[1].kv.Range({ key: counter })).kvs[0] as Msg).value));
        const share = shares(load.acks, INSTANCES);
        const forwarded = o.forwarding
          ? await Promise.all(cl.servers.map((x) => counterOf(x.address, 'strata_forwarded_writes_total')))
          : [];
        note(
          `[galera] probe ${PROBE_MS / 1000} s: ${probes} probes, ${staleReads} stale reads (lag ≤ ${maxLag}), ${staleCompares} stale compares; ` +
            `CAS ${increments} increments, counter ${final}; puts ${load.acks.length} (${(load.acks.length / (PROBE_MS / 1000)).toFixed(0)}/s), ` +
            `shares ${share.map((x) => `${(x * 100).toFixed(1)}%`).join(' ')}; ${errors.length + load.errors.length} client errors` +
            (o.forwarding ? `; forwarded by each instance ${forwarded.join(', ')}` : ''),
        );
        expect([...errors, ...load.errors.map((e) => `put via ${e.via}: ${e.message}`)], 'client errors').toEqual([]);
        expect({ staleReads, staleCompares }).toEqual({ staleReads: 0, staleCompares: 0 });
        expect(probes).toBeGreaterThan(0);
        expect(final, 'the counter counts every successful compare-and-swap').toBe(increments);
        for (const [i, x] of share.entries()) expect(x, `instance ${i}'s share of the put load`).toBeGreaterThanOrEqual(0.2);
      }, 60_000);

      test('kill -9 of a strata instance and of a Galera node under load: no acknowledged write lost, no survivor error, stalls < eviction + 2 s', async () => {
        const g = await useGalera();
        // With forwarding the victim is the elected writer: the instance whose loss the others must ride out.
        const VICTIM = o.forwarding ? await writerIndex(cl.servers.map((x) => x.address)) : 2;
        expect(VICTIM, 'an instance holds the writer lease').toBeGreaterThanOrEqual(0);
        const SURVIVORS = [0, 1, 2].filter((i) => i !== VICTIM);
        const p = cl.prefix('faults');
        const t0 = performance.now();
        const timeline: string[] = [];
        const mark = (what: string): number => {
          const at = performance.now();
          timeline.push(`${((at - t0) / 1000).toFixed(1)} s ${what}`);
          return at;
        };
        const load = startPutLoad(cl.clients, WIDTHS, `${p}`);
        await sleep(2_000);
        load.retire(VICTIM);
        const killedInstance = mark(`kill -9 strata instance ${VICTIM}`);
        await cl.servers[VICTIM].kill();
        await sleep(1_500);
        const nodeKilled = mark(`kill -9 galera node ${VICTIM}`);
        await g.kill(VICTIM);
        await sleep(GALERA_EVICTION_MS + 1_000);
        mark(`restart galera node ${VICTIM} (--wsrep-recover, IST)`);
        await g.restart(VICTIM);
        const nodeBack = mark(`galera node ${VICTIM} synced`);
        await cl.restart(VICTIM);
        mark(`strata instance ${VICTIM} restarted on node ${VICTIM}`);
        load.add(cl.clients[VICTIM], VICTIM, WIDTHS[VICTIM]);
        await sleep(2_000);
        await load.stop();
        const end = mark('load stopped');

        const onVictim = (e: { via: number; at: number }): boolean => e.via === VICTIM && e.at >= killedInstance && e.at <= nodeBack;
        // Forwarded to the killed writer and in flight there when it died: their outcome is unknown, and
        // they are answered etcd's "request timed out" the moment the connection drops.
        const forwardedInFlight = (e: { via: number; message: string; at: number }): boolean =>
          o.forwarding && e.at >= killedInstance && e.at <= killedInstance + 1_000 && e.message.includes('etcdserver: request timed out');
        const survivorErrors = load.errors.filter((e) => !onVictim(e) && !forwardedInFlight(e));
        const victimErrors = load.errors.filter(onVictim).length;
        const forwardedLost = load.errors.filter((e) => !onVictim(e) && forwardedInFlight(e)).length;
        // With forwarding the writer's death counts too: its callers must fall back or re-elect quickly.
        const watchedFrom = (o.forwarding ? killedInstance : nodeKilled) - 1_000;
        const stalls = SURVIVORS.map((i) => longestStall(load.acks, i, watchedFrom, end));
        note(
          `[galera] faults${o.forwarding ? ' (forwarding; the writer killed)' : ''}: ${load.acks.length} acknowledged; ` +
            `${victimErrors} in flight on the killed instance${o.forwarding ? `, ${forwardedLost} forwarded to it` : ''}; ` +
            `longest survivor stalls ${stalls.map((x) => `${Math.round(x.ms)} ms at ${((x.at - t0) / 1000).toFixed(1)} s`).join(', ')}\n  ` +
            timeline.join('\n  '),
        );
        expect(
          survivorErrors.map((e) => `via ${e.via}: ${e.message}`),
          'no request failed but the killed instance’s in flight',
        ).toEqual([]);

        // Every acknowledged put is there, at its revision, through every instance.
        const expected = new Map<string, Ack>(load.acks.map((a) => [a.key, a]));
        for (const [i, c] of cl.clients.entries()) {
          const all = await c.kv.Range({ key: b(p), range_end: prefixEnd(p) });
          const found = new Map<string, Msg>((all.kvs as Msg[]).map((x) => [s(x.key), x]));
          const wrong = [...expected.values()].filter((a) => {
            const kv = found.get(a.key);
            return !kv || s(kv.value) !== a.value || num(kv.mod_revision) !== a.rev;
          });
          expect(
            wrong.slice(0, 5).map((a) => a.key),
            `acknowledged puts missing or changed through instance ${i}`,
          ).toEqual([]);
        }
        for (const [k, x] of stalls.entries()) {
          expect(x.ms, `longest stall on surviving instance ${SURVIVORS[k]}`).toBeLessThan(GALERA_EVICTION_MS + 2_000);
        }
      }, 120_000);

      test('a burst of large puts is split into write sets under wsrep_max_ws_size, also by an instance opened before it was lowered; Defragment answers', async () => {
        const g = await useGalera();
        const WS_MAX = 4 << 20;
        const before = g.sql(0, 'SELECT @@global.wsrep_max_ws_size');
        g.sql(0, `SET GLOBAL wsrep_max_ws_size = ${WS_MAX}`);
        const restore = (): void => void g.sql(0, `SET GLOBAL wsrep_max_ws_size = ${before}`);
        // Opened after the change: this instance caps its batches at a quarter of it.
        const server = await startStrata({ endpoint: cl.endpoint(0), args: o.args }).catch((e: unknown) => {
          restore();
          throw e;
        });
        const conns = Array.from({ length: 4 }, () => createClient(server.address));
        try {
          const p = cl.prefix('write-set');
          const value = Buffer.alloc(256 << 10, 'w');
          // 16 MiB at once over four connections: one transaction would be four times what Galera replicates.
          const revs = await Promise.all(
            Array.from({ length: 64 }, async (_, i) => num((await conns[i % 4].kv.Put({ key: b(`${p}${i}`), value })).header.revision)),
          );
          expect(new Set(revs).size, 'each put its own revision').toBe(64);
          const got = await cl.clients[1].kv.Range({ key: b(p), range_end: prefixEnd(p), count_only: true });
          expect(num(got.count)).toBe(64);
          // An instance open since before the change holds the old cap: Galera's refusal makes it
          // learn the live value, and the batch is retried in smaller write sets.
          const q = cl.prefix('write-set-stale');
          const stale = await Promise.all(
            Array.from({ length: 64 }, async (_, i) => num((await cl.clients[0].kv.Put({ key: b(`${q}${i}`), value })).header.revision)),
          );
          expect(new Set(stale).size, 'each put its own revision').toBe(64);
          await conns[0].maintenance.Defragment({});
        } finally {
          restore();
          for (const c of conns) c.close();
          await server.stop();
          server.cleanup();
        }
      }, 60_000);
    },
    o.args,
  );
}
