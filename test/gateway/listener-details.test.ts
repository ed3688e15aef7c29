// Details of the client port an operator or a client library meets: /livez and /readyz as etcd 3.6
// answers them, the peer URL MemberList reports, and HTTP keep-alive connections left open while
// idle as etcd's Go server leaves them.
import * as net from 'node:net';
import { describe, expect, it } from 'vitest';
import { serverFixture, withServer } from '../helpers/fixture';
import { sleep, waitFor } from '../helpers/ports';
import { get, post } from './http';

const TEXT = { 'content-type': 'text/plain; charset=utf-8', 'x-content-type-options': 'nosniff' };

describe('/livez and /readyz', () => {
  const s = serverFixture();

  it('answer ok, and list their checks with ?verbose', async () => {
    const live = await get(s.url, '/livez');
    expect([live.status, live.text, live.headers['content-type'], live.headers['x-content-type-options']]).toEqual([
      200,
      'ok\n',
      TEXT['content-type'],
      TEXT['x-content-type-options'],
    ]);
    expect((await get(s.url, '/readyz')).text).toBe('ok\n');
    expect((await get(s.url, '/livez?verbose')).text).toBe('[+]serializable_read ok\nok\n');
    expect((await get(s.url, '/readyz?verbose=1')).text).toBe(
      '[+]data_corruption ok\n[+]serializable_read ok\n[+]linearizable_read ok\n[+]non_learner ok\nok\n',
    );
  });

  it('?exclude= skips checks (unknown names are accepted); /readyz/<check> runs one', async () => {
    const r = await get(s.url, '/readyz?verbose&exclude=linearizable_read&exclude=non_learner&exclude=no_such_check');
    expect([r.status, r.text]).toEqual([200, '[+]data_corruption ok\n[+]serializable_read ok\nok\n']);
    expect((await get(s.url, '/readyz/linearizable_read?verbose')).text).toBe('[+]linearizable_read ok\nok\n');
    expect((await get(s.url, '/livez/serializable_read')).text).toBe('ok\n');
  });

  it('only GET; unknown sub-paths are 404 as in Go’s mux', async () => {
    const p = await post(s.url, '/readyz');
    expect([p.status, p.text, p.headers.allow]).toEqual([405, 'Method Not Allowed\n', 'GET']);
    expect((await post(s.url, '/livez/serializable_read')).status).toBe(405);
    for (const path of ['/readyz/no_such_check', '/livez/', '/livez/serializable_read/x']) {
      const r = await get(s.url, path);
      expect([path, r.status, r.text]).toEqual([path, 404, '404 page not found\n']);
    }
  });
});

describe('MemberList peerURLs', () => {
  it('reports etcd’s default peer URL', async () => {
    await withMembers([], ['http://localhost:2380']);
  });
  it('reports --initial-advertise-peer-urls as given', async () => {
    await withMembers(
      ['--initial-advertise-peer-urls', 'http://10.0.0.7:2380,https://db.example:2380'],
      ['http://10.0.0.7:2380', 'https://db.example:2380'],
    );
  });
});

async function withMembers(args: string[], peerURLs: string[]): Promise<void> {
  await withServer({ args }, async (s) => {
    const m = await s.client.cluster.MemberList({});
    expect(m.members[0].peerURLs).toEqual(peerURLs);
    const viaHttp = await post(s.url, '/v3/cluster/member/list', {});
    expect(viaHttp.json.members[0].peerURLs).toEqual(peerURLs);
  });
}

describe('HTTP keep-alive', () => {
  const s = serverFixture();

  it('an idle keep-alive connection stays open: a client reuses it after 15 s', async () => {
    const [host, port] = s.address.split(':');
    const sock = net.connect(Number(port), host);
    await new Promise((r) => sock.once('connect', r));
    let got = '';
    let closed = false;
    sock.on('data', (d: Buffer) => (got += d.toString()));
    sock.on('close', () => (closed = true));
    const ask = async (): Promise<string> => {
      got = '';
      sock.write('GET /version HTTP/1.1\r\nHost: x\r\n\r\n');
      await waitFor(() => /\r\n\r\n\{.*\}$/.test(got), 5000, 'the /version response');
      return got;
    };
    expect(await ask()).toMatch(/^HTTP\/1\.1 200 OK\r\n[^]*Connection: keep-alive/i);
    // etcd's Go server sets no idle timeout; node's default closes after 5 s.
    await sleep(15_000);
    expect(closed).toBe(false);
    expect(await ask()).toMatch(/^HTTP\/1\.1 200 OK/);
    sock.destroy();
  }, 30_000);
});
