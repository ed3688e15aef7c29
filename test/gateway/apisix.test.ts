// Apache APISIX's use of etcd (etcd-clients.md §3.10), replayed with the exact request shapes
// lua-resty-etcd sends: version check, init_dir markers, the /apisix directory read, the shared
// watch (created line, typeless PUT events, DELETE without value, reconnect with the same
// start_revision, compaction), the Admin API's put/list/get/patch txn/delete, gen_id, TTL routes.
import { describe, expect, it } from 'vitest';
import { serverFixture } from '../helpers/fixture';
import { b64, jsonHeader, LineStream, post, get, unb64 } from './http';

const DIRS = [
  '/routes',
  '/upstreams',
  '/services',
  '/plugins',
  '/ssls',
  '/stream_routes',
  '/plugin_metadata',
  '/consumers',
  '/global_rules',
  '/protos',
  '/plugin_configs',
  '/consumer_groups',
  '/secrets',
];

/** lua-resty-etcd's get/readdir body: every field present, numbers as numbers (lua-cjson). */
function rangeBody(key: string, rangeEnd?: string): object {
  const body: Record<string, unknown> = {
    key: b64(key),
    limit: 0,
    revision: 0,
    sort_order: 0,
    sort_target: 0,
    serializable: false,
    keys_only: false,
    count_only: false,
    min_mod_revision: 0,
    max_mod_revision: 0,
    min_create_revision: 0,
    max_create_revision: 0,
  };
  if (rangeEnd !== undefined) body.range_end = b64(rangeEnd);
  return body;
}
/** readdir: range_end is the key with its last byte + 1. */
const readdir = (url: string, key: string) => {
  const end = Buffer.from(key);
  end[end.length - 1]++;
  return post(url, '/v3/kv/range', rangeBody(key, end.toString('latin1')));
};
const watchdir = (url: string, startRevision: number) =>
  new LineStream(url, '/v3/watch', { create_request: { key: 'L2FwaXNpeC8=', range_end: 'L2FwaXNpeDA=', start_revision: startRevision } });

describe('APISIX sequences', () => {
  const s = serverFixture();

  let startRev = 0;

  it('startup: /version ≥ 3.4.0, thirteen init_dir markers free of "error", the /apisix directory read', async () => {
    const v = await get(s.url, '/version');
    const [maj, min] = (v.json.etcdcluster as string).split('.').map(Number);
    expect(maj * 100 + min).toBeGreaterThanOrEqual(304);
    for (const dir of DIRS) {
      const r = await post(s.url, '/v3/kv/put', { value: 'aW5pdF9kaXI=', key: b64(`/apisix${dir}/`) });
      expect(r.status).toBe(200);
      expect(r.text).not.toContain('error');
      expect(r.text).not.toContain('404 page not found');
    }
    await post(s.url, '/v3/kv/put', { key: b64('/apisix/routes/1'), value: b64('{"uri":"/a"}') });
    const all = await readdir(s.url, '/apisix');
    expect(typeof all.json.header.revision).toBe('string');
    const keys = all.json.kvs.map((kv: { key: string }) => unb64(kv.key));
    expect(keys).toEqual([...DIRS.map((d) => `/apisix${d}/`), '/apisix/routes/1'].sort());
    expect(all.json.count).toBe(String(keys.length));
    startRev = Number(all.json.header.revision) + 1;
  });

  it('the shared watch: created, a PUT event without type, a DELETE without value; re-watch from the same revision replays', async () => {
    const w = watchdir(s.url, startRev);
    const [created] = await w.next();
    expect(created.result.created).toBe(true);
    const put = await post(s.url, '/v3/kv/put', { key: b64('/apisix/routes/2'), value: b64('{"uri":"/b"}') });
    const [ev] = await w.next();
    expect(ev.result.header.revision).toBe(put.json.header.revision);
    expect(ev.result.events).toEqual([{ kv: expect.objectContaining({ key: b64('/apisix/routes/2'), value: b64('{"uri":"/b"}') }) }]);
    expect(ev.result.events[0].type).toBeUndefined();
    await post(s.url, '/v3/kv/deleterange', { key: b64('/apisix/routes/2') });
    const [del] = await w.next();
    expect(del.result.events).toEqual([{ type: 'DELETE', kv: { key: b64('/apisix/routes/2'), mod_revision: del.result.header.revision } }]);
    // APISIX's read timeout (50 s) closes the watch; it re-watches from the same start_revision.
    w.close();
    const again = watchdir(s.url, startRev);
    const lines = await again.next(2);
    expect(lines[0].result.created).toBe(true);
    const replayed = lines[1].result.events.map((e: { type?: string; kv: { key: string } }) => [e.type ?? 'PUT', unb64(e.kv.key)]);
    expect(replayed).toEqual([
      ['PUT', '/apisix/routes/2'],
      ['DELETE', '/apisix/routes/2'],
    ]);
    again.close();
  });

  it('Admin API: PUT 201 then 200 by prev_kv, list with the marker first, GET, PATCH txn, DELETE and DELETE again', async () => {
    const key = b64('/apisix/routes/r1');
    const first = await post(s.url, '/v3/kv/put', { key, value: b64('{"uri":"/r1"}'), prev_kv: true });
    expect(first.json.prev_kv).toBeUndefined(); // → APISIX answers 201
    const second = await post(s.url, '/v3/kv/put', { key, value: b64('{"uri":"/r1","v":2}'), prev_kv: true });
    expect(second.json.prev_kv.value).toBe(b64('{"uri":"/r1"}')); // → 200
    const list = await readdir(s.url, '/apisix/routes');
    const keys = list.json.kvs.map((kv: { key: string }) => unb64(kv.key));
    expect(keys[0]).toBe('/apisix/routes/');
    expect(unb64(list.json.kvs[0].value)).toBe('init_dir');
    expect(keys).toContain('/apisix/routes/r1');
    const one = await readdir(s.url, '/apisix/routes/r1');
    expect(unb64(one.json.kvs[0].key)).toBe('/apisix/routes/r1');
    const mod = Number(one.json.kvs[0].mod_revision);
    const patch = await post(s.url, '/v3/kv/txn', {
      compare: [{ key, target: 'MOD', result: 'EQUAL', mod_revision: mod }],
      success: [{ requestPut: { key, value: b64('{"uri":"/r1","v":3}') } }],
    });
    expect(patch.json.succeeded).toBe(true);
    const stale = await post(s.url, '/v3/kv/txn', {
      compare: [{ key, target: 'MOD', result: 'EQUAL', mod_revision: mod }],
      success: [{ requestPut: { key, value: b64('{}') } }],
    });
    expect(stale.json.succeeded).toBeUndefined(); // → "value changed before overwritten"
    const del = await post(s.url, '/v3/kv/deleterange', { key });
    expect(del.json.deleted).toBe('1');
    const delAgain = await post(s.url, '/v3/kv/deleterange', { key });
    expect(delAgain.json.deleted).toBeUndefined(); // → 404 in the Admin API
  });

  it('POST route: the gen_id put’s header.revision becomes the id', async () => {
    const gen = await post(s.url, '/v3/kv/put', { key: b64('/apisix/gen_id'), value: b64('1'), prev_kv: true });
    const id = String(gen.json.header.revision).padStart(20, '0');
    const put = await post(s.url, '/v3/kv/put', { key: b64(`/apisix/routes/${id}`), value: b64('{"uri":"/gen"}'), prev_kv: true });
    expect(Number(put.json.header.revision)).toBe(Number(gen.json.header.revision) + 1);
    const got = await readdir(s.url, `/apisix/routes/${id}`);
    expect(unb64(got.json.kvs[0].key)).toBe(`/apisix/routes/${id}`);
  });

  it('TTL route and server-info: grant, put with a string lease ID, keepalive, expiry seen on the watch', async () => {
    const grant = await post(s.url, '/v3/lease/grant', { TTL: 2, ID: 0 });
    const lease = grant.json.ID as string;
    const put = await post(s.url, '/v3/kv/put', { key: b64('/apisix/routes/ttl'), value: b64('{"uri":"/ttl"}'), prev_kv: true, lease });
    const w = watchdir(s.url, Number(put.json.header.revision));
    const lines = await w.next(2);
    expect(lines[1].result.events[0].kv.lease).toBe(lease);
    const ka = await post(s.url, '/v3/lease/keepalive', { ID: lease });
    expect(ka.json).toEqual({ result: { header: jsonHeader(s.identity, put.json.header.revision), ID: lease, TTL: '2' } });
    const [expired] = await w.next(1, 8000);
    expect(expired.result.events).toEqual([
      { type: 'DELETE', kv: { key: b64('/apisix/routes/ttl'), mod_revision: expired.result.header.revision } },
    ]);
    w.close();
  }, 15_000);

  it('compaction past the watch start: created, then canceled with compact_revision; re-read and re-watch from it', async () => {
    const p = await post(s.url, '/v3/kv/put', { key: b64('/apisix/routes/c'), value: b64('{}') });
    const rev = Number(p.json.header.revision);
    await post(s.url, '/v3/kv/put', { key: b64('/apisix/routes/c'), value: b64('{"v":2}') });
    await post(s.url, '/v3/kv/compaction', { revision: rev + 1 });
    const w = watchdir(s.url, startRev);
    const [created, canceled] = await w.next(2);
    expect(created.result.created).toBe(true);
    expect(canceled.result).toMatchObject({ canceled: true, compact_revision: String(rev + 1) });
    w.close();
    const reread = await readdir(s.url, '/apisix');
    expect(reread.json.kvs.length).toBeGreaterThan(DIRS.length);
    const rewatch = watchdir(s.url, Number(canceled.result.compact_revision));
    const [ok] = await rewatch.next();
    expect(ok.result).toMatchObject({ created: true });
    expect(ok.result.canceled).toBeUndefined();
    rewatch.close();
  });
});
