// The gateway's /v3/lock/* and /v3/election/* routes over real HTTP against the built strata, with
// the JSON etcd's gateway answers (checked against etcd 3.4): errors are 500 with code 2 (etcd
// passes its client's errors on as Unknown), Observe is a `{"result":…}` line stream, and a Lock
// that waits ends when its HTTP client leaves.
import { describe, expect, it } from 'vitest';
import { serverFixture } from '../helpers/fixture';
import { waitFor } from '../helpers/ports';
import { b64, b64PrefixEnd, jsonHeader, LineStream, post, request } from './http';

const s = serverFixture();

const header = (rev: number | string) => jsonHeader(s.identity, rev);
const err = (message: string) => ({ error: message, message, code: 2 });
const hex = (id: string) => BigInt(id).toString(16);
const grant = async (): Promise<string> => (await post(s.url, '/v3/lease/grant', { TTL: '30' })).json.ID as string;
const owners = async (name: string): Promise<number> =>
  Number(
    (await post(s.url, '/v3/kv/range', { key: b64(`${name}/`), range_end: b64PrefixEnd(`${name}/`), count_only: true })).json.count ?? 0,
  );

describe('gateway: Lock', () => {
  it('lock, lock again, unlock; errors', async () => {
    const id = await grant();
    const l = await post(s.url, '/v3/lock/lock', { name: b64('gl'), lease: id });
    const rev = l.json.header.revision;
    expect([l.status, l.json]).toEqual([200, { header: header(rev), key: b64(`gl/${hex(id)}`) }]);
    const again = await post(s.url, '/v3/lock/lock', { name: b64('gl'), lease: id });
    expect(again.json).toEqual(l.json);
    const u = await post(s.url, '/v3/lock/unlock', { key: l.json.key });
    expect(u.json).toEqual({ header: header(Number(rev) + 1) });
    const noKey = await post(s.url, '/v3/lock/unlock', {});
    expect([noKey.status, noKey.json]).toEqual([500, err('etcdserver: key is not provided')]);
    const badLease = await post(s.url, '/v3/lock/lock', { name: b64('gl'), lease: '12345' });
    expect([badLease.status, badLease.json]).toEqual([500, err('etcdserver: requested lease not found')]);
    // /v3beta is the same route.
    const beta = await post(s.url, '/v3beta/lock/unlock', { key: b64('gl/none') });
    expect(beta.status).toBe(200);
  });

  it('a waiting lock whose HTTP client leaves gives its place up', async () => {
    const [a, b] = [await grant(), await grant()];
    await post(s.url, '/v3/lock/lock', { name: b64('gw'), lease: a });
    const waiter = new LineStream(s.url, '/v3/lock/lock', { name: b64('gw'), lease: b });
    await waitFor(async () => (await owners('gw')) === 2, 10_000, 'the waiter queued');
    waiter.close();
    await waitFor(async () => (await owners('gw')) === 1, 10_000, "the waiter's key deleted");
  });
});

describe('gateway: Election', () => {
  it('campaign, leader, observe, proclaim, resign; errors', async () => {
    const none = await post(s.url, '/v3/election/leader', { name: b64('ge') });
    expect([none.status, none.json]).toEqual([500, err('election: no leader')]);
    for (const path of ['/v3/election/proclaim', '/v3/election/resign']) {
      const r = await post(s.url, path, {});
      expect([path, r.status, r.json]).toEqual([path, 500, err('"leader" field must be provided')]);
    }
    const id = await grant();
    const c = await post(s.url, '/v3/election/campaign', { name: b64('ge'), lease: id, value: b64('v1') });
    const rev = c.json.header.revision as string;
    const leader = { name: b64('ge'), key: b64(`ge/${hex(id)}`), rev, lease: id };
    expect([c.status, c.json]).toEqual([200, { header: header(rev), leader }]);
    const kv = (value: string, mod: number, version: number) => ({
      key: leader.key,
      create_revision: rev,
      mod_revision: String(mod),
      version: String(version),
      value: b64(value),
      lease: id,
    });
    const l = await post(s.url, '/v3/election/leader', { name: b64('ge') });
    expect(l.json).toEqual({ header: header(rev), kv: kv('v1', Number(rev), 1) });

    const obs = new LineStream(s.url, '/v3/election/observe', { name: b64('ge') });
    try {
      expect(await obs.next(1)).toEqual([{ result: { header: header(rev), kv: kv('v1', Number(rev), 1) } }]);
      const p = await post(s.url, '/v3/election/proclaim', { leader, value: b64('v2') });
      expect(p.json).toEqual({ header: header(Number(rev) + 1) });
      expect(await obs.next(1)).toEqual([{ result: { header: header(Number(rev) + 1), kv: kv('v2', Number(rev) + 1, 2) } }]);
      const wrong = await post(s.url, '/v3/election/proclaim', { leader: { ...leader, rev: '1' }, value: b64('x') });
      expect([wrong.status, wrong.json]).toEqual([500, err('election: not leader')]);
      const r = await post(s.url, '/v3/election/resign', { leader });
      expect(r.json).toEqual({ header: header(Number(rev) + 2) });
    } finally {
      obs.close();
    }
    const gone = await post(s.url, '/v3/election/leader', { name: b64('ge') });
    expect(gone.json).toEqual(err('election: no leader'));
  });

  it('only POST', async () => {
    const r = await request(s.url, 'GET', '/v3/election/leader');
    expect(r.status).toBe(405);
  });
});
