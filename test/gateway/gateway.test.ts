// The JSON gateway's unary routes over real HTTP against the built strata: JSON shapes (omitted
// zero values, int64 as strings, enums by name), lowerCamel and string-or-number input, errors
// with etcd's HTTP status mapping, aliases and the /v3beta rewrite.
import { describe, expect, it } from 'vitest';
import { serverFixture } from '../helpers/fixture';
import { b64, b64PrefixEnd, jsonHeader, post, request, unb64 } from './http';

const s = serverFixture();

/** The whole header strata sends at revision `rev`: its identity, as Status reports it over gRPC. */
const header = (rev: number | string) => jsonHeader(s.identity, rev);
/** The store's revision now, read through the gateway. */
const revNow = async (): Promise<number> => Number((await post(s.url, '/v3/kv/range', { key: b64('\u0001probe') })).json.header.revision);
const err = (code: number, message: string) => ({ error: message, message, code });

describe('gateway: KV', () => {
  it('put and range: int64 as strings, zero values omitted, a miss is only a header', async () => {
    const before = await revNow();
    const put = await post(s.url, '/v3/kv/put', { key: b64('kv/a'), value: b64('1') });
    expect(put.status).toBe(200);
    expect(put.headers['content-type']).toBe('application/json');
    expect(put.json).toEqual({ header: header(before + 1) });
    const rev = put.json.header.revision;
    const got = await post(s.url, '/v3/kv/range', { key: b64('kv/a') });
    expect(got.json).toEqual({
      header: header(rev),
      kvs: [{ key: b64('kv/a'), create_revision: rev, mod_revision: rev, version: '1', value: b64('1') }],
      count: '1',
    });
    // Field order is the proto's, as jsonpb writes it.
    expect(Object.keys(got.json.kvs[0])).toEqual(['key', 'create_revision', 'mod_revision', 'version', 'value']);
    const miss = await post(s.url, '/v3/kv/range', { key: b64('kv/none') });
    expect(miss.json).toEqual({ header: header(rev) });
  });

  it('accepts lowerCamel names, int64 as string or number, enums by name or number; ignores unknown fields and nulls', async () => {
    for (const k of ['c', 'a', 'b']) await post(s.url, '/v3/kv/put', { key: b64(`sort/${k}`), value: b64(k) });
    const base = { key: b64('sort/'), rangeEnd: b64PrefixEnd('sort/'), bogus: 1, revision: null };
    const desc = await post(s.url, '/v3/kv/range', { ...base, sortOrder: 'DESCEND', sortTarget: 'KEY', limit: '2' });
    expect(desc.json.kvs.map((kv: { key: string }) => unb64(kv.key))).toEqual(['sort/c', 'sort/b']);
    expect(desc.json.more).toBe(true);
    expect(desc.json.count).toBe('3');
    const asc = await post(s.url, '/v3/kv/range', { ...base, sort_order: 1, sort_target: 0, limit: 2 });
    expect(asc.json.kvs.map((kv: { key: string }) => unb64(kv.key))).toEqual(['sort/a', 'sort/b']);
    const keysOnly = await post(s.url, '/v3/kv/range', { ...base, keysOnly: true });
    expect(keysOnly.json.kvs[0].value).toBeUndefined();
    const countOnly = await post(s.url, '/v3/kv/range', { ...base, count_only: true });
    expect(countOnly.json.kvs).toBeUndefined();
    expect(countOnly.json.count).toBe('3');
  });

  it('put prev_kv, delete with prev_kvs; deleting nothing leaves `deleted` out', async () => {
    await post(s.url, '/v3/kv/put', { key: b64('del/x'), value: b64('1') });
    const again = await post(s.url, '/v3/kv/put', { key: b64('del/x'), value: b64('2'), prev_kv: true });
    expect(again.json.prev_kv).toMatchObject({ key: b64('del/x'), value: b64('1'), version: '1' });
    await post(s.url, '/v3/kv/put', { key: b64('del/y'), value: b64('3') });
    const del = await post(s.url, '/v3/kv/deleterange', { key: b64('del/'), range_end: b64PrefixEnd('del/'), prevKv: true });
    expect(del.json.deleted).toBe('2');
    expect(del.json.prev_kvs.map((kv: { value: string }) => unb64(kv.value))).toEqual(['2', '3']);
    const none = await post(s.url, '/v3/kv/deleterange', { key: b64('del/x') });
    expect(none.json).toEqual({ header: header(del.json.header.revision) });
  });

  it('txn as APISIX sends it (camelCase, enum names), both branches', async () => {
    const txn = {
      compare: [{ target: 'CREATE', key: b64('txn/k'), createRevision: 0 }],
      success: [{ requestPut: { key: b64('txn/k'), value: b64('v1') } }],
      failure: [{ requestRange: { key: b64('txn/k') } }],
    };
    const before = await revNow();
    const first = await post(s.url, '/v3/kv/txn', txn);
    expect(first.json).toEqual({
      header: header(before + 1),
      succeeded: true,
      responses: [{ response_put: { header: { revision: first.json.header.revision } } }],
    });
    const second = await post(s.url, '/v3/kv/txn', txn);
    expect(second.json.succeeded).toBeUndefined();
    expect(second.json.responses[0].response_range.kvs[0]).toMatchObject({ key: b64('txn/k'), value: b64('v1') });
    // APISIX's PATCH: compare MOD EQUAL with a number, enums by number too.
    const mod = Number(second.json.responses[0].response_range.kvs[0].mod_revision);
    const patch = await post(s.url, '/v3/kv/txn', {
      compare: [{ key: b64('txn/k'), target: 2, result: 0, mod_revision: mod }],
      success: [{ request_put: { key: b64('txn/k'), value: b64('v2') } }],
    });
    expect(patch.json.succeeded).toBe(true);
    const stale = await post(s.url, '/v3/kv/txn', {
      compare: [{ key: b64('txn/k'), target: 'MOD', result: 'EQUAL', mod_revision: String(mod) }],
      success: [{ requestPut: { key: b64('txn/k'), value: b64('v3') } }],
    });
    expect(stale.json.succeeded).toBeUndefined();
    expect(stale.json.responses).toBeUndefined();
  });

  it('compaction, then reading below it is OutOfRange → 400', async () => {
    const p1 = await post(s.url, '/v3/kv/put', { key: b64('cmp/a'), value: b64('1') });
    await post(s.url, '/v3/kv/put', { key: b64('cmp/a'), value: b64('2') });
    const rev = Number(p1.json.header.revision);
    const c = await post(s.url, '/v3/kv/compaction', { revision: rev + 1, physical: true });
    expect(c.status).toBe(200);
    const old = await post(s.url, '/v3/kv/range', { key: b64('cmp/a'), revision: rev });
    expect(old.status).toBe(400);
    expect(old.json).toEqual(err(11, 'etcdserver: mvcc: required revision has been compacted'));
    const future = await post(s.url, '/v3/kv/range', { key: b64('cmp/a'), revision: '999999' });
    expect(future.json).toEqual(err(11, 'etcdserver: mvcc: required revision is a future revision'));
  });

  it('bad input gets etcd errors with the gateway status mapping', async () => {
    const cases: Array<[unknown, number, object]> = [
      [{}, 400, err(3, 'etcdserver: key is not provided')],
      ['garbage', 400, err(3, "invalid character 'g' looking for beginning of value")],
      ['{"key":', 400, err(3, 'unexpected EOF')],
      [{ key: 'Zm9v!' }, 400, err(3, 'illegal base64 data at input byte 4')],
      [{ key: '-_-_' }, 400, err(3, 'illegal base64 data at input byte 0')],
      [{ key: b64('k'), limit: 1.5 }, 400, err(3, 'json: cannot unmarshal number 1.5 into Go value of type int64')],
      [
        { key: b64('k'), limit: '9223372036854775808' },
        400,
        err(3, 'json: cannot unmarshal number 9223372036854775808 into Go value of type int64'),
      ],
      [{ key: b64('k'), sort_order: 'SIDEWAYS' }, 400, err(3, 'unknown value "SIDEWAYS" for enum etcdserverpb.RangeRequest.SortOrder')],
      [{ key: b64('k'), serializable: 'yes' }, 400, err(3, 'json: cannot unmarshal string into Go value of type bool')],
      [[1], 400, err(3, 'json: cannot unmarshal array into Go value of type map[string]json.RawMessage')],
    ];
    for (const [body, status, json] of cases) {
      const r = await post(s.url, '/v3/kv/range', typeof body === 'string' ? body : (body as object));
      expect({ body, status: r.status, json: r.json }).toEqual({ body, status, json });
    }
    const big = await post(s.url, '/v3/kv/put', { key: b64('big'), value: Buffer.alloc(1.6 * 1024 * 1024).toString('base64') });
    expect([big.status, big.json]).toEqual([400, err(3, 'etcdserver: request is too large')]);
    const ops = Array.from({ length: 129 }, (_, i) => ({ requestPut: { key: b64(`ops/${i}`), value: '' } }));
    const many = await post(s.url, '/v3/kv/txn', { success: ops });
    expect([many.status, many.json]).toEqual([400, err(3, 'etcdserver: too many operations in txn request')]);
    const dup = await post(s.url, '/v3/kv/txn', { success: [{ requestPut: { key: b64('d') } }, { requestPut: { key: b64('d') } }] });
    expect(dup.json).toEqual(err(3, 'etcdserver: duplicate key given in txn request'));
  });

  it('paths and methods as etcd answers them', async () => {
    const wrongMethod = await request(s.url, 'GET', '/v3/kv/range');
    expect([wrongMethod.status, wrongMethod.text, wrongMethod.headers['content-type']]).toEqual([
      405,
      'Method Not Allowed\n',
      'text/plain; charset=utf-8',
    ]);
    const unknown = await post(s.url, '/v3/kv/nope', {});
    expect([unknown.status, unknown.text]).toEqual([404, 'Not Found\n']);
    const outside = await request(s.url, 'GET', '/nope');
    expect([outside.status, outside.text]).toEqual([404, '404 page not found\n']);
    const root = await post(s.url, '/v3');
    expect([root.status, root.headers.location]).toEqual([301, '/v3/']);
    const options = await request(s.url, 'OPTIONS', '/v3/kv/range');
    expect(options.status).toBe(200);
    expect(options.headers['access-control-allow-origin']).toBe('*');
    const beta = await post(s.url, '/v3beta/kv/put', { key: b64('beta'), value: b64('b') });
    expect(beta.status).toBe(200);
    const viaBeta = await post(s.url, '/v3beta/kv/range?ignored=1', { key: b64('beta') });
    expect(unb64(viaBeta.json.kvs[0].value)).toBe('b');
    const lock = await post(s.url, '/v3beta/lock/unlock', { key: b64('l/none') });
    expect(lock.status).toBe(200);
  });
});

describe('gateway: Lease (unary), Maintenance, Cluster, Auth', () => {
  it('grant, timetolive with keys, leases, revoke — on the /v3/lease and /v3/kv/lease paths', async () => {
    const before = await revNow();
    const g = await post(s.url, '/v3/lease/grant', { TTL: '30' });
    expect(g.json).toEqual({ header: header(before), ID: expect.stringMatching(/^\d+$/), TTL: '30' });
    const id = g.json.ID as string;
    // IDs beyond 2^53 must survive as JSON numbers too (lua-cjson sends numbers).
    const put = await post(s.url, '/v3/kv/put', `{"key":"${b64('lease/k')}","value":"${b64('v')}","lease":${id}}`);
    const putRev = Number(put.json.header.revision);
    expect(putRev).toBe(before + 1);
    for (const path of ['/v3/lease/timetolive', '/v3/kv/lease/timetolive']) {
      const t = await post(s.url, path, `{"ID":${id},"keys":true}`);
      expect(t.json).toEqual({
        header: header(putRev),
        ID: id,
        TTL: expect.stringMatching(/^(29|30)$/),
        grantedTTL: '30',
        keys: [b64('lease/k')],
      });
    }
    for (const path of ['/v3/lease/leases', '/v3/kv/lease/leases']) {
      const l = await post(s.url, path);
      expect(l.json.leases).toContainEqual({ ID: id });
    }
    const r = await post(s.url, '/v3/kv/lease/revoke', { ID: id });
    expect(r.json, 'the revoke deletes the key: one new revision').toEqual({ header: header(putRev + 1) });
    const gone = await post(s.url, '/v3/kv/range', { key: b64('lease/k') });
    expect(gone.json.kvs).toBeUndefined();
    const again = await post(s.url, '/v3/lease/revoke', { ID: id });
    expect([again.status, again.json]).toEqual([404, err(5, 'etcdserver: requested lease not found')]);
    const ttl = await post(s.url, '/v3/lease/timetolive', { ID: id });
    expect(ttl.json).toEqual({ header: header(putRev + 1), ID: id, TTL: '-1' });
  });

  it('status, alarm, defragment, member list; what strata lacks is 501', async () => {
    const rev = await revNow();
    const st = await post(s.url, '/v3/maintenance/status');
    expect(st.json).toEqual({
      header: header(rev),
      version: '3.5.21',
      dbSize: expect.stringMatching(/^\d+$/),
      leader: st.json.header.member_id,
      raftIndex: st.json.header.revision,
      raftTerm: '2',
      raftAppliedIndex: st.json.header.revision,
      dbSizeInUse: expect.stringMatching(/^\d+$/),
    });
    const alarm = await post(s.url, '/v3/maintenance/alarm', { action: 'GET' });
    expect(alarm.json).toEqual({ header: header(rev) });
    expect((await post(s.url, '/v3/maintenance/defragment', {})).json).toEqual({});
    const members = await post(s.url, '/v3/cluster/member/list', {});
    expect(members.json).toEqual({
      header: header(0),
      members: [{ ID: members.json.header.member_id, name: 'strata', peerURLs: ['http://localhost:2380'], clientURLs: [s.url] }],
    });
    const hash = await post(s.url, '/v3/maintenance/hash', {});
    expect([hash.status, hash.json]).toEqual([200, { header: header(await revNow()), hash: expect.any(Number) }]);
    for (const path of ['/v3/cluster/member/add', '/v3/maintenance/downgrade']) {
      const r = await post(s.url, path, {});
      expect([path, r.status, r.json.code]).toEqual([path, 501, 12]);
    }
  });

  it('auth answers as etcd 3.5 does while auth is off', async () => {
    const a = await post(s.url, '/v3/auth/authenticate', { name: 'root', password: 'x' });
    expect([a.status, a.json]).toEqual([400, err(9, 'etcdserver: authentication is not enabled')]);
    const d = await post(s.url, '/v3/auth/disable', {});
    expect(d.json).toEqual({ header: header(await revNow()) });
    // etcd 3.5's /v3/auth/status: auth off (false is left out), auth revision 1; no users yet.
    const st = await post(s.url, '/v3/auth/status', {});
    expect([st.status, st.json]).toEqual([200, { header: header(await revNow()), authRevision: '1' }]);
    const users = await post(s.url, '/v3/auth/user/list', {});
    expect([users.status, users.json]).toEqual([200, { header: header(await revNow()) }]);
  });
});
