/** Watch-stream helpers for the conformance suite (on top of test/helpers/client.ts's WatchReader). */
import { expect } from 'vitest';
import { WatchReader, type Msg } from '../helpers/client';
import { kv, n, type Ctx, type KV } from './harness';

/** Opens a Watch stream that the harness closes after the test. */
export function openStream(ctx: Ctx): WatchReader {
  return ctx.track(new WatchReader(ctx.c.watch()));
}

/**
 * Sends one create_request and waits for the next `created` response on the stream (creates are
 * answered in order, so the first created response after sending is ours).
 */
export async function createWatch(w: WatchReader, req: Msg, timeoutMs = 10_000): Promise<Msg> {
  const from = w.responses.length;
  w.send({ create_request: req });
  const rs = await w.until((all) => all.slice(from).some((r) => r.created), timeoutMs);
  return rs.slice(from).find((r) => r.created) as Msg;
}

export interface Ev {
  type: 'PUT' | 'DELETE';
  kv: KV;
  prev_kv: KV | null;
}
export function ev(e: Msg): Ev {
  return { type: e.type as Ev['type'], kv: kv(e.kv) as KV, prev_kv: kv(e.prev_kv) };
}

/** Responses of one watch that carry events. */
export function eventResponses(w: WatchReader, id: string): Msg[] {
  return w.responses.filter((r) => r.watch_id === id && (r.events as Msg[]).length > 0);
}
export function events(w: WatchReader, id: string): Ev[] {
  return eventResponses(w, id).flatMap((r) => (r.events as Msg[]).map(ev));
}

/** Waits until the watch has delivered at least `count` events. */
export async function waitEvents(w: WatchReader, id: string, count: number, timeoutMs = 15_000): Promise<Ev[]> {
  await w.until(() => events(w, id).length >= count, timeoutMs);
  return events(w, id);
}

/** Waits until the watch has delivered an event at or after revision `rev`. */
export async function waitRev(w: WatchReader, id: string, rev: number, timeoutMs = 15_000): Promise<Ev[]> {
  await w.until(() => events(w, id).some((e) => e.kv.mod_revision >= rev), timeoutMs);
  return events(w, id);
}

/** Every WatchResponse carries this server's whole header (the Go client dereferences it unconditionally). */
export function expectHeaders(ctx: Ctx, w: WatchReader): void {
  for (const r of w.responses) expect(r.header, `header of ${JSON.stringify(r).slice(0, 200)}`).toEqual(ctx.header(n(r.header?.revision)));
}

/** header.revision of an event response is at least the last event's revision. */
export function expectHeaderCoversEvents(w: WatchReader): void {
  for (const r of w.responses) {
    const evs = r.events as Msg[];
    if (evs.length === 0) continue;
    expect(n(r.header.revision)).toBeGreaterThanOrEqual(n(evs[evs.length - 1].kv.mod_revision));
  }
}

export const pause = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
