// One port, every protocol: gRPC and HTTP/1.1 side by side on TCP and on a unix socket, the plain
// endpoints (/version, /health, /metrics), /health turning 503 when the database goes away, and
// SIGTERM ending gateway streams.
import * as net from 'node:net';
import { describe, expect, it } from 'vitest';
import { b } from '../helpers/client';
import { dbProxy } from '../helpers/db-proxy';
import { serverFixture, withServer } from '../helpers/fixture';
import { sleep, waitFor } from '../helpers/ports';
import { databaseFor, noBackendReason, PG_BASE, skippedSuite, testBackend } from '../helpers/targets';
import { b64, get, LineStream, post, request } from './http';

describe('one TCP port', () => {
  const s = serverFixture({ args: ['--emulated-etcd-version', '3.5.13'] });

  it('gRPC and the gateway see each other’s writes on the same port', async () => {
    await s.client.kv.Put({ key: b('both/grpc'), value: b('g') });
    await post(s.url, '/v3/kv/put', { key: b64('both/http'), value: b64('h') });
    const viaGrpc = await s.client.kv.Range({ key: b('both/'), range_end: b('both0') });
    expect(viaGrpc.kvs.map((kv: { key: Buffer }) => kv.key.toString())).toEqual(['both/grpc', 'both/http']);
    const viaHttp = await post(s.url, '/v3/kv/range', { key: b64('both/grpc') });
    expect(viaHttp.json.kvs[0].value).toBe(b64('g'));
  });

  it('/version follows --emulated-etcd-version; only GET', async () => {
    const v = await get(s.url, '/version');
    expect([v.status, v.headers['content-type'], v.json]).toEqual([
      200,
      'application/json',
      { etcdserver: '3.5.13', etcdcluster: '3.5.0' },
    ]);
    const p = await post(s.url, '/version');
    expect([p.status, p.text, p.headers.allow]).toEqual([405, 'Method Not Allowed\n', 'GET']);
  });

  it('/health answers as etcd 3.5', async () => {
    const h = await get(s.url, '/health');
    expect([h.status, h.json]).toEqual([200, { health: 'true', reason: '' }]);
    const ser = await get(s.url, '/health?serializable=true');
    expect(ser.json).toEqual({ health: 'true', reason: '' });
    expect((await post(s.url, '/health')).status).toBe(405);
  });

  it('/metrics: Prometheus text with requests by transport, open streams, revision and db size', async () => {
    await s.client.kv.Range({ key: b('m') });
    await post(s.url, '/v3/kv/range', { key: b64('m') });
    const w = new LineStream(s.url, '/v3/watch', { create_request: { key: b64('m') } });
    await w.next();
    const m = await get(s.url, '/metrics');
    expect(m.status).toBe(200);
    expect(m.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(m.text).toMatch(/^strata_requests_total\{service="KV",method="Range",transport="grpc",code="0"\} [1-9]/m);
    expect(m.text).toMatch(/^strata_requests_total\{service="KV",method="Range",transport="gateway",code="0"\} [1-9]/m);
    expect(m.text).toMatch(/^strata_streams\{kind="watch"\} 1$/m);
    expect(m.text).toMatch(/^strata_revision \d+$/m);
    expect(m.text).toMatch(/^strata_db_size_bytes [1-9]\d*$/m);
    expect(m.text).toMatch(/^process_resident_memory_bytes /m);
    w.close();
  });

  it('an HTTP/1.1 request trickling in one byte at a time is still recognised', async () => {
    const [host, port] = s.address.split(':');
    const sock = net.connect(Number(port), host);
    await new Promise((r) => sock.once('connect', r));
    let got = '';
    sock.on('data', (d: Buffer) => (got += d.toString()));
    for (const ch of 'GET /version HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n') {
      sock.write(ch);
      await sleep(2);
    }
    // The whole response (its Content-Length says when) proves the trickled request was parsed.
    await waitFor(() => /\r\n\r\n\{.*\}$/.test(got), 5000, 'the /version response');
    sock.destroy();
    expect(got).toMatch(/^HTTP\/1\.1 200 OK/);
    expect(got).toContain('{"etcdserver":"3.5.13","etcdcluster":"3.5.0"}');
  });
});

describe('unix socket', () => {
  it('serves gRPC and HTTP/1.1 on unix:// addresses', async () => {
    await withServer({ unixSocket: true }, async (u) => {
      const sock = { socketPath: u.server.socketPath as string };
      expect([u.address, u.url]).toEqual([`unix:${sock.socketPath}`, `unix://${sock.socketPath}`]);
      expect((await get(sock, '/health')).json).toEqual({ health: 'true', reason: '' });
      await post(sock, '/v3/kv/put', { key: b64('u'), value: b64('1') });
      const r = await u.client.kv.Range({ key: b('u') });
      expect(r.kvs[0].value.toString()).toBe('1');
      const members = await u.client.cluster.MemberList({});
      expect(members.members[0].clientURLs).toEqual([u.url]);
      const w = new LineStream(sock, '/v3/watch', { create_request: { key: b64('u'), start_revision: 1 } });
      const lines = await w.next(2);
      expect(lines[1].result.events[0].kv.value).toBe(b64('1'));
      expect(await u.server.stop()).toBe(0);
      await w.end();
    });
  });
});

describe('shutdown', () => {
  it('SIGTERM ends gateway watch and keepalive streams and exits 0 promptly', async () => {
    await withServer({}, async (s) => {
      const w = new LineStream(s.url, '/v3/watch', { create_request: { key: b64('x') } });
      await w.next();
      const id = (await post(s.url, '/v3/lease/grant', { TTL: 60 })).json.ID as string;
      const ka = new LineStream(s.url, '/v3/lease/keepalive', `{"ID":"${id}"}`, true);
      await ka.next();
      const t0 = Date.now();
      expect(await s.server.stop()).toBe(0);
      expect(Date.now() - t0).toBeLessThan(4000);
      await w.end();
      await ka.end();
    });
  });
});

const pg = testBackend('postgres');
if (!pg) skippedSuite('/health and /readyz when the database is unreachable', noBackendReason(['postgres']));
else
  describe('/health and /readyz when the database is unreachable', () => {
    it('turns 503 with a reason while PostgreSQL cannot be reached, and recovers', async () => {
      const u = new URL(PG_BASE);
      const proxy = await dbProxy({ host: u.hostname, port: Number(u.port || 5432) });
      const endpoint = (d: string) =>
        `postgres://${u.username}${u.password ? `:${u.password}` : ''}@127.0.0.1:${proxy.port}/${databaseFor(d)}?sslmode=disable`;
      try {
        await withServer({ endpoint, onCleanup: (d) => pg.drop(d) }, async (s) => {
          expect((await get(s.url, '/health')).json).toEqual({ health: 'true', reason: '' });
          await proxy.cut();
          const down = await get(s.url, '/health');
          expect(down.status).toBe(503);
          expect(down.json.health).toBe('false');
          expect(down.json.reason).toMatch(/^DATABASE UNREACHABLE: /);
          // etcd's probes: liveness does not need the database, readiness does.
          expect((await get(s.url, '/livez')).status).toBe(200);
          const ready = await get(s.url, '/readyz');
          expect([ready.status, ready.headers['content-type']]).toEqual([503, 'text/plain; charset=utf-8']);
          expect(ready.text).toMatch(
            /^\[\+\]data_corruption ok\n\[\+\]serializable_read ok\n\[-\]linearizable_read failed: .+\n\[\+\]non_learner ok\n\n$/,
          );
          await proxy.open();
          await waitFor(async () => (await get(s.url, '/health')).status === 200, 15_000, 'health back');
          expect((await request(s.url, 'GET', '/health')).json).toEqual({ health: 'true', reason: '' });
          expect((await get(s.url, '/readyz')).text).toBe('ok\n');
        });
      } finally {
        await proxy.cut();
      }
    }, 40_000);
  });
