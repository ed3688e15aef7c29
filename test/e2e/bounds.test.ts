/**
 * Resource bounds, each at its limit: watch and keepalive streams in all (--max-streams), watchers
 * on one stream (--max-watches-per-stream), HTTP/2 streams per connection (--max-concurrent-streams,
 * etcd's flag), a gateway body that never arrives (--gateway-read-timeout), and a bad value of any
 * of them is a start-up error.
 */
import * as http2 from 'node:http2';
import * as net from 'node:net';
import * as grpc from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { b, createClient, type EtcdClient, type Msg } from '../helpers/client';
import { startStrata, type Server } from '../helpers/servers';
import { parseCli } from '../../src/cli';

/** A stream whose cancel at the end is not an error of the test. */
function quiet<T extends grpc.ClientDuplexStream<Msg, Msg>>(s: T): T {
  s.on('error', () => undefined);
  return s;
}

/** The next response on a watch stream, or its error. */
function next(w: grpc.ClientDuplexStream<Msg, Msg>): Promise<Msg> {
  return new Promise((resolve, reject) => {
    const onData = (m: Msg) => {
      w.off('error', onError);
      resolve(m);
    };
    const onError = (e: Error) => {
      w.off('data', onData);
      reject(e);
    };
    w.once('data', onData);
    w.once('error', onError);
  });
}

describe('resource bounds', () => {
  let server: Server;
  let client: EtcdClient;
  beforeAll(async () => {
    server = await startStrata({
      args: ['--max-streams', '2', '--max-watches-per-stream', '3', '--max-concurrent-streams', '16', '--gateway-read-timeout', '300ms'],
    });
    client = createClient(server.address);
  });
  afterAll(async () => {
    client?.close();
    expect(await server.stop()).toBe(0);
    server.cleanup();
  });

  it('a watch create past --max-watches-per-stream is created and canceled with the reason; the others go on', async () => {
    const w = quiet(client.watch());
    const ids: number[] = [];
    for (let i = 0; i < 3; i++) {
      w.write({ create_request: { key: b(`bound/${i}`) } });
      const r = await next(w);
      expect(r.created).toBe(true);
      expect(r.canceled).toBe(false);
      ids.push(Number(r.watch_id));
    }
    w.write({ create_request: { key: b('bound/3') } });
    const refused = await next(w);
    expect(refused).toMatchObject({ created: true, canceled: true, watch_id: '-1' });
    expect(refused.cancel_reason).toBe('strata: too many watches on this stream (--max-watches-per-stream)');
    // A cancel makes room again.
    w.write({ cancel_request: { watch_id: ids[0] } });
    expect(await next(w)).toMatchObject({ canceled: true });
    w.write({ create_request: { key: b('bound/4') } });
    expect(await next(w)).toMatchObject({ created: true, canceled: false });
    await client.kv.Put({ key: b('bound/1'), value: b('v') });
    expect((await next(w)).events).toHaveLength(1);
    w.end();
    w.cancel();
  });

  it('a stream past --max-streams is refused with RESOURCE_EXHAUSTED; closing one lets the next in', async () => {
    const c = createClient(server.address);
    const a = quiet(c.watch());
    const k = quiet(c.keepAlive());
    a.write({ create_request: { key: b('x') } });
    await next(a);
    const lease = await c.lease.LeaseGrant({ TTL: 60 });
    k.write({ ID: lease.ID });
    await next(k);
    const third = quiet(c.watch());
    third.write({ create_request: { key: b('y') } });
    await expect(next(third)).rejects.toMatchObject({
      code: grpc.status.RESOURCE_EXHAUSTED,
      details: 'strata: too many open streams (--max-streams)',
    });
    // The gateway counts against the same bound.
    const gw = await fetch(`${server.url}/v3/watch`, { method: 'POST', body: JSON.stringify({ create_request: { key: 'eA==' } }) });
    expect(gw.status).toBe(429);
    expect(await gw.json()).toMatchObject({ code: grpc.status.RESOURCE_EXHAUSTED });
    a.cancel();
    await new Promise((r) => setTimeout(r, 100));
    const fourth = quiet(c.watch());
    fourth.write({ create_request: { key: b('z') } });
    expect(await next(fourth)).toMatchObject({ created: true });
    fourth.cancel();
    k.cancel();
    c.close();
  });

  it('advertises --max-concurrent-streams to every HTTP/2 client', async () => {
    const session = http2.connect(server.url);
    const settings = await new Promise<http2.Settings>((resolve) => session.once('remoteSettings', resolve));
    expect(settings.maxConcurrentStreams).toBe(16);
    session.close();
  });

  it('a gateway body that does not arrive within --gateway-read-timeout gets 408 and the connection closed', async () => {
    const [host, port] = server.address.split(':');
    const answer = await new Promise<string>((resolve) => {
      let text = '';
      const sock = net.connect(Number(port), host, () => {
        // Slowloris: the headers promise 100 bytes, 10 come, then nothing.
        sock.write('POST /v3/kv/range HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{"key":"Y');
      });
      sock.on('data', (d: Buffer) => (text += d.toString()));
      sock.on('close', () => resolve(text));
      sock.on('error', () => undefined);
    });
    expect(answer).toMatch(/^HTTP\/1\.1 408 /);
    // A watch body whose first message never completes is cut the same way.
    const watch = await fetch(`${server.url}/v3/watch`, {
      method: 'POST',
      body: new ReadableStream({ start: (c) => c.enqueue(new TextEncoder().encode('{"create_request":')) }),
      duplex: 'half',
    } as RequestInit).then(
      (r) => r.status,
      () => 'closed',
    );
    expect([408, 'closed']).toContain(watch);
  });
});

describe('clients that leave', () => {
  it('a gateway client that resets mid-body is a cancelled request, not a server error in the log', async () => {
    const server = await startStrata();
    try {
      const [host, port] = server.address.split(':');
      for (let i = 0; i < 5; i++) {
        await new Promise<void>((resolve) => {
          const sock = net.connect(Number(port), host, () => {
            sock.write('POST /v3/kv/put HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{"key":"Y');
            setTimeout(() => sock.resetAndDestroy(), 50);
          });
          sock.on('error', () => undefined);
          sock.on('close', () => resolve());
        });
      }
      await new Promise((r) => setTimeout(r, 200));
      expect(server.logs()).not.toContain('unexpected error');
    } finally {
      expect(await server.stop()).toBe(0);
      server.cleanup();
    }
  });
});

describe('resource bound flags', () => {
  it('a bad value is a start-up error', () => {
    for (const [flag, value] of [
      ['--max-streams', '-1'],
      ['--max-watches-per-stream', 'many'],
      ['--max-concurrent-streams', '1.5'],
      ['--gateway-read-timeout', 'soon'],
      ['--grpc-keepalive-timeout', '5x'],
    ]) {
      const r = parseCli([flag, value], {}, 'test');
      expect(r, `${flag} ${value}`).toMatchObject({ kind: 'exit', code: 2 });
      expect(r.kind === 'exit' && r.output, `${flag} ${value}`).toContain(`invalid ${flag}`);
    }
  });
});
