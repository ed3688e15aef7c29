/**
 * Closed-loop clients for the Galera probes: put workers that record every acknowledgement (its
 * key, value, revision, instance and time) and every error, for as long as they are told to run.
 */
import { b, type EtcdClient } from '../helpers/client';
import { num } from './multi-harness';

export interface Ack {
  key: string;
  value: string;
  rev: number;
  via: number;
  /** performance.now() of the acknowledgement. */
  at: number;
}

export interface PutLoad {
  acks: Ack[];
  errors: Array<{ via: number; message: string; at: number }>;
  /** Asks every worker to stop after its current request; resolves when all have. */
  stop(): Promise<void>;
  /** Stops the workers of instance `via` at their next turn (their client is about to go). */
  retire(via: number): void;
  /** Starts `width` more workers on instance `via` through `c`. */
  add(c: EtcdClient, via: number, width: number): void;
}

/** Starts put workers: `widths[i]` in flight through `clients[i]`, each key written once. */
export function startPutLoad(clients: EtcdClient[], widths: number[], prefix: string): PutLoad {
  const acks: Ack[] = [];
  const errors: PutLoad['errors'] = [];
  const retired = new Set<number>();
  const running: Array<Promise<void>> = [];
  let stopping = false;
  let workers = 0;
  const worker = async (c: EtcdClient, via: number, w: number): Promise<void> => {
    for (let seq = 0; !stopping && !retired.has(via); seq++) {
      const key = `${prefix}i${via}/w${String(w).padStart(3, '0')}/${String(seq).padStart(6, '0')}`;
      const value = `v-${via}-${w}-${seq}`;
      try {
        const rev = num((await c.kv.Put({ key: b(key), value: b(value) })).header.revision);
        acks.push({ key, value, rev, via, at: performance.now() });
      } catch (e) {
        errors.push({ via, message: (e as Error).message, at: performance.now() });
        // A client whose instance is gone stops; any other error fails the test that counts them.
        if (retired.has(via)) return;
      }
    }
  };
  const load: PutLoad = {
    acks,
    errors,
    async stop() {
      stopping = true;
      await Promise.all(running);
    },
    retire(via) {
      retired.add(via);
    },
    add(c, via, width) {
      retired.delete(via);
      for (let i = 0; i < width; i++) running.push(worker(c, via, workers++));
    },
  };
  clients.forEach((c, via) => load.add(c, via, widths[via]));
  return load;
}

/** Each instance's share of the acknowledgements. */
export function shares(acks: Ack[], instances: number): number[] {
  const counts = Array.from({ length: instances }, () => 0);
  for (const a of acks) counts[a.via]++;
  return counts.map((n) => n / Math.max(1, acks.length));
}

/** The longest time without an acknowledgement through instance `via` within [from, to]. */
export function longestStall(acks: Ack[], via: number, from: number, to: number): { ms: number; at: number } {
  const times = acks.filter((a) => a.via === via && a.at >= from && a.at <= to).map((a) => a.at);
  times.sort((x, y) => x - y);
  let last = from;
  let worst = { ms: 0, at: from };
  for (const t of [...times, to]) {
    if (t - last > worst.ms) worst = { ms: t - last, at: last };
    last = t;
  }
  return worst;
}
