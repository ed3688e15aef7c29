// Watch `fragment`: a response over etcd's limit (--max-request-bytes plus 512 KiB) is split into
// parts, fragment=true on all but the last, only for a watcher that asked. Both servers run with
// --max-request-bytes 4096, so 200 events of ~3 KB (about 600 KB in one replayed response) split.
import { expect } from 'vitest';
import type { Msg } from '../helpers/client';
import { diffSuite, step, type Case, type Side } from './harness';

const KEYS = 200;
const VALUE = 3000;

/** Opens a watch of the case's keys from `from` and sums up the responses until every event is in. */
function watchShape(s: Side, from: string, fragment: boolean): Promise<Msg> {
  const w = s.c.watch();
  const shape: Msg[] = [];
  const keys: string[] = [];
  return new Promise<Msg>((resolve, reject) => {
    w.on('error', () => undefined);
    w.on('data', (r: Msg) => {
      if (r.created) return;
      shape.push({ events: r.events.length, fragment: r.fragment, revision: r.header.revision });
      for (const e of r.events as Msg[]) keys.push(Buffer.from(e.kv.key as Buffer).toString());
      if (keys.length >= KEYS) {
        w.cancel();
        const inOrder = keys.every((k, i) => k === s.k(String(i).padStart(3, '0')).toString());
        resolve({ shape, inOrder });
      }
    });
    w.on('end', () => reject(new Error('watch ended early')));
    w.write({ create_request: { key: s.k(), range_end: s.end(), start_revision: from, fragment } });
  });
}

const cases: Case[] = [
  {
    name: 'a large replayed response, with and without fragment',
    fresh: true,
    serverArgs: ['--max-request-bytes', '4096'],
    timeoutMs: 60_000,
    steps: [
      step(`put ${KEYS} keys of ${VALUE} bytes`, async (s) => {
        for (let i = 0; i < KEYS; i++) await s.c.kv.Put({ key: s.k(String(i).padStart(3, '0')), value: Buffer.alloc(VALUE + i, 97) });
        return (await s.c.kv.Range({ key: s.k(), range_end: s.end(), count_only: true })).count;
      }),
      step('without fragment: one response', (s) => watchShape(s, '2', false), {
        etcd: { shape: [{ events: KEYS, fragment: false }], inOrder: true },
      }),
      step('with fragment: parts under the limit, fragment on all but the last', (s) => watchShape(s, '2', true), {
        check: (v: Msg) => {
          const parts = v.shape as Msg[];
          expect(parts.length).toBeGreaterThan(1);
          expect(parts.map((p) => p.fragment)).toEqual([...parts.slice(1).map(() => true), false]);
          expect(v.inOrder).toBe(true);
        },
      }),
    ],
  },
];

diffSuite('watch-fragment', cases);
