// The gateway's streams over real HTTP: watch (history replay, live events, several requests on one
// body, compaction cancel, staying open after the body ends) and lease keepalive, plus expiry.
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { snapshotStatus } from '../../src/snapshot/status';
import { serverFixture } from '../helpers/fixture';
import { sleep } from '../helpers/ports';
import { b64, b64PrefixEnd, jsonHeader, LineStream, post, unb64 } from './http';

const s = serverFixture();

const put = async (k: string, v: string, extra: object = {}) =>
  Number((await post(s.url, '/v3/kv/put', { key: b64(k), value: b64(v), ...extra })).json.header.revision);
/** The whole header strata sends at revision `rev`: its identity, as Status reports it over gRPC. */
const header = (rev: number) => jsonHeader(s.identity, rev);
/** The store's revision now, read through the gateway. */
const revNow = async (): Promise<number> => Number((await post(s.url, '/v3/kv/range', { key: b64('\u0001probe') })).json.header.revision);

describe('gateway: watch', () => {
  it('replays history from start_revision, then streams live events; PUT has no type, DELETE no value', async () => {
    const r1 = await put('w1/a', '1');
    await put('w1/a', '2');
    await post(s.url, '/v3/kv/deleterange', { key: b64('w1/a') });
    const w = new LineStream(s.url, '/v3/watch', {
      create_request: { key: b64('w1/'), range_end: b64PrefixEnd('w1/'), start_revision: String(r1), prev_kv: true },
    });
    const [created] = await w.next();
    expect(w.status).toBe(200);
    expect(w.headers['content-type']).toBe('application/json');
    expect(created).toEqual({ result: { header: header(r1 + 2), created: true } });
    const replayed = (await w.next())[0].result.events;
    expect(replayed).toEqual([
      { kv: { key: b64('w1/a'), create_revision: String(r1), mod_revision: String(r1), version: '1', value: b64('1') } },
      {
        kv: { key: b64('w1/a'), create_revision: String(r1), mod_revision: String(r1 + 1), version: '2', value: b64('2') },
        prev_kv: { key: b64('w1/a'), create_revision: String(r1), mod_revision: String(r1), version: '1', value: b64('1') },
      },
      {
        type: 'DELETE',
        kv: { key: b64('w1/a'), mod_revision: String(r1 + 2) },
        prev_kv: { key: b64('w1/a'), create_revision: String(r1), mod_revision: String(r1 + 1), version: '2', value: b64('2') },
      },
    ]);
    // The request body has ended; the stream stays open for live events until the client leaves.
    await sleep(300);
    expect(w.ended).toBe(false);
    const r4 = await put('w1/b', 'live');
    const [live] = await w.next();
    expect(live.result.header.revision).toBe(String(r4));
    expect(live.result.events).toEqual([
      { kv: { key: b64('w1/b'), create_revision: String(r4), mod_revision: String(r4), version: '1', value: b64('live') } },
    ]);
    w.close();
  });

  it('one kept-open body carries several requests: two creates, progress, cancel', async () => {
    const w = new LineStream(s.url, '/v3/watch', { create_request: { key: b64('w2/a') } }, true);
    expect((await w.next())[0].result).toMatchObject({ created: true });
    w.send({ createRequest: { key: b64('w2/b'), prevKv: true } });
    const [second] = await w.next();
    expect(second.result).toMatchObject({ watch_id: '1', created: true });
    w.send({ progress_request: {} });
    const [progress] = await w.next();
    expect(progress.result).toEqual({ header: header(await revNow()), watch_id: '-1' });
    w.send({ cancel_request: { watch_id: 1 } });
    const [canceled] = await w.next();
    expect(canceled.result).toMatchObject({ watch_id: '1', canceled: true });
    await put('w2/b', 'not seen');
    const r = await put('w2/a', 'seen');
    const [ev] = await w.next();
    expect(ev.result.header.revision).toBe(String(r));
    expect(ev.result.watch_id).toBeUndefined();
    expect(unb64(ev.result.events[0].kv.key)).toBe('w2/a');
    w.close();
  });

  it('a watch from a compacted revision: created, then canceled with compact_revision (header without revision)', async () => {
    const r1 = await put('w3/a', '1');
    const r2 = await put('w3/a', '2');
    await post(s.url, '/v3/kv/compaction', { revision: r2 });
    const w = new LineStream(s.url, '/v3/watch', { create_request: { key: b64('w3/a'), start_revision: r1 } });
    const [created, canceled] = await w.next(2);
    expect(created.result.created).toBe(true);
    expect(canceled.result).toEqual({
      header: header(0),
      canceled: true,
      compact_revision: String(r2),
    });
    w.close();
  });

  it('a first message that is not JSON fails the request as etcd does (500, code 2)', async () => {
    const r = await post(s.url, '/v3/watch', 'garbage');
    expect([r.status, r.json]).toEqual([
      500,
      {
        error: "invalid character 'g' looking for beginning of value",
        message: "invalid character 'g' looking for beginning of value",
        code: 2,
      },
    ]);
  });

  it('a first message that fails the request ends it: the valid ones after it in the body are not read (the server stays up)', async () => {
    const r = await post(s.url, '/v3/watch', `{"create_request":{"key":5}}{"create_request":{"key":"${b64('w4/a')}"}}`);
    expect([r.status, r.json.code]).toEqual([500, 2]);
    // A watch create answered on the ended response used to be node's unhandled write-after-end: the process died.
    await sleep(100);
    expect(await revNow()).toBeGreaterThan(0);
  });
});

describe('gateway: lease keepalive and expiry', () => {
  it('one POST per request list: one line per request, then the stream ends', async () => {
    const id = (await post(s.url, '/v3/lease/grant', { TTL: 20 })).json.ID as string;
    const rev = await revNow();
    const one = new LineStream(s.url, '/v3/lease/keepalive', { ID: id });
    expect(await one.next()).toEqual([{ result: { header: header(rev), ID: id, TTL: '20' } }]);
    await one.end();
    const two = new LineStream(s.url, '/v3/lease/keepalive', `{"ID":"${id}"}\n{"ID":${id}}`);
    expect((await two.next(2)).map((l) => l.result.TTL)).toEqual(['20', '20']);
    await two.end();
    expect(two.lines).toHaveLength(2);
    const unknown = new LineStream(s.url, '/v3/lease/keepalive', { ID: '12345' });
    expect(await unknown.next()).toEqual([{ result: { header: header(rev), ID: '12345' } }]);
    await unknown.end();
  });

  it('an expired lease deletes its keys: a DELETE event on the watch, TimeToLive -1', async () => {
    const id = (await post(s.url, '/v3/lease/grant', { TTL: 2 })).json.ID as string;
    const r = await put('exp/k', 'v', { lease: id });
    const w = new LineStream(s.url, '/v3/watch', { create_request: { key: b64('exp/k'), start_revision: r + 1, prev_kv: true } });
    await w.next();
    const [ev] = await w.next(1, 8000);
    expect(ev.result.events).toEqual([
      {
        type: 'DELETE',
        kv: { key: b64('exp/k'), mod_revision: String(r + 1) },
        prev_kv: { key: b64('exp/k'), create_revision: String(r), mod_revision: String(r), version: '1', value: b64('v'), lease: id },
      },
    ]);
    const ttl = await post(s.url, '/v3/lease/timetolive', { ID: id });
    expect(ttl.json.TTL).toBe('-1');
    w.close();
  }, 15_000);
});

describe('gateway: snapshot', () => {
  it('streams the db as {"result":…} lines, then its SHA-256; the file is one etcdctl reads', async () => {
    await put('snap/a', '1');
    const rev = await revNow();
    const r = await post(s.url, '/v3/maintenance/snapshot', {});
    expect(r.status).toBe(200);
    const lines = r.text
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l).result);
    expect(lines.length).toBeGreaterThan(1);
    expect(lines[0].header).toEqual(header(rev));
    const blobs = lines.map((l) => Buffer.from(l.blob, 'base64'));
    const db = Buffer.concat(blobs.slice(0, -1));
    expect(lines[lines.length - 1].remaining_bytes ?? '0').toBe('0');
    expect(Number(lines[0].remaining_bytes ?? 0)).toBe(db.length - blobs[0].length);
    expect(blobs[blobs.length - 1].equals(createHash('sha256').update(db).digest())).toBe(true);
    const dir = mkdtempSync(path.join(tmpdir(), 'strata-gw-snapshot-'));
    try {
      const file = path.join(dir, 'db');
      writeFileSync(file, db);
      expect((await snapshotStatus(file)).revision).toBe(rev);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
