// The HPACK decoder against RFC 7541's examples, and the :authority rewrite between node's own
// HTTP/2 client (nghttp2's encoder: Huffman strings, a dynamic table with evictions, CONTINUATION
// frames) and node's HTTP/2 server, over a real socket.
import * as http2 from 'node:http2';
import * as net from 'node:net';
import { describe, expect, it } from 'vitest';
import { escapeAuthority, rewriteAuthority } from '../../src/listener/h2-authority';
import { encodeLiterals, HpackDecoder, HpackError } from '../../src/listener/hpack';

const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex');
const pairs = (fields: { name: string; value: string }[]) => fields.map((f) => [f.name, f.value]);

describe('HPACK decoder', () => {
  it('decodes RFC 7541 C.4 (requests with Huffman coding) and keeps the dynamic table across blocks', () => {
    const d = new HpackDecoder(4096);
    expect(pairs(d.decode(hex('8286 8441 8cf1 e3c2 e5f2 3a6b a0ab 90f4 ff')))).toEqual([
      [':method', 'GET'],
      [':scheme', 'http'],
      [':path', '/'],
      [':authority', 'www.example.com'],
    ]);
    expect(pairs(d.decode(hex('8286 84be 5886 a8eb 1064 9cbf')))).toEqual([
      [':method', 'GET'],
      [':scheme', 'http'],
      [':path', '/'],
      [':authority', 'www.example.com'],
      ['cache-control', 'no-cache'],
    ]);
    expect(pairs(d.decode(hex('8287 85bf 4088 25a8 49e9 5ba9 7d7f 8925 a849 e95b b8e8 b4bf')))).toEqual([
      [':method', 'GET'],
      [':scheme', 'https'],
      [':path', '/index.html'],
      [':authority', 'www.example.com'],
      ['custom-key', 'custom-value'],
    ]);
  });

  it('evicts as RFC 7541 C.5 does with a 256-byte table', () => {
    const d = new HpackDecoder(256);
    d.decode(
      hex(
        '4803 3330 3258 0770 7269 7661 7465 611d 4d6f 6e2c 2032 3120 4f63 7420 3230 3133 2032 303a 3133 3a32 3120 474d 546e 1768 7474 7073 3a2f 2f77 7777 2e65 7861 6d70 6c65 2e63 6f6d',
      ),
    );
    // C.5.2: 307 evicts the oldest entry (:status 302); index 63 is then `location`.
    expect(pairs(d.decode(hex('4803 3330 37c1 c0bf')))).toEqual([
      [':status', '307'],
      ['cache-control', 'private'],
      ['date', 'Mon, 21 Oct 2013 20:13:21 GMT'],
      ['location', 'https://www.example.com'],
    ]);
  });

  it('refuses bad input: an index past the table, EOS or long padding in a Huffman string, a table above the limit', () => {
    expect(() => new HpackDecoder(4096).decode(hex('be'))).toThrow(HpackError);
    expect(() => new HpackDecoder(4096).decode(hex('0084 ffff ffff 00'))).toThrow(HpackError);
    expect(() => new HpackDecoder(4096).decode(hex('0081 00 00'))).toThrow(HpackError);
    expect(() => new HpackDecoder(4096).decode(hex('3fe2 1f'))).toThrow(HpackError);
    expect(() => new HpackDecoder(4096).decode(hex('0003 6162'))).toThrow(HpackError);
  });

  it('round-trips through the literal encoder, keeping never-indexed fields never indexed', () => {
    const fields = [
      { name: ':authority', value: '%2Frun%2Fs.sock', sensitive: false },
      { name: 'token', value: 'x'.repeat(300), sensitive: true },
    ];
    const block = encodeLiterals(fields);
    expect(block[0]).toBe(0x00);
    expect(new HpackDecoder(4096).decode(block)).toEqual(fields);
  });
});

describe(':authority rewrite', () => {
  it('escapes only what nghttp2 refuses', () => {
    expect(escapeAuthority('localhost:2379')).toBe('localhost:2379');
    expect(escapeAuthority('rel.sock')).toBe('rel.sock');
    expect(escapeAuthority('/run/etcd dir/s.sock')).toBe('%2Frun%2Fetcd%20dir%2Fs.sock');
  });

  it("lets node's HTTP/2 server take requests whose :authority is a socket path, every other header intact", async () => {
    const server = http2.createServer();
    const seen: http2.IncomingHttpHeaders[] = [];
    server.on('stream', (stream, headers) => {
      seen.push(headers);
      stream.respond({ ':status': 200 });
      stream.end('ok');
    });
    const tcp = net.createServer({ noDelay: true }, (socket) => server.emit('connection', rewriteAuthority(socket)));
    await new Promise<void>((r) => tcp.listen(0, '127.0.0.1', r));
    const port = (tcp.address() as net.AddressInfo).port;
    const client = http2.connect(`http://127.0.0.1:${port}`);
    try {
      const ask = (headers: http2.OutgoingHttpHeaders) =>
        new Promise<string>((resolve, reject) => {
          const req = client.request(headers);
          let body = '';
          req.on('data', (d: Buffer) => (body += d.toString()));
          req.on('end', () => resolve(body));
          req.on('error', reject);
          req.end();
        });
      // Distinct values fill nghttp2's dynamic table and evict; a 40 KiB header needs CONTINUATION frames.
      const sent: http2.OutgoingHttpHeaders[] = [];
      for (let i = 0; i < 60; i++) {
        const h: http2.OutgoingHttpHeaders = {
          ':path': `/p/${i}`,
          ':authority': '/tmp/strata/s.sock',
          'x-n': String(i),
          'x-filler': `${i}-`.repeat(40),
          authorization: 'Bearer secret',
        };
        if (i === 30) h['x-big'] = 'b'.repeat(40_000);
        sent.push(h);
        expect(await ask(h)).toBe('ok');
      }
      expect(seen).toHaveLength(60);
      seen.forEach((got, i) => {
        expect(got[':authority']).toBe('%2Ftmp%2Fstrata%2Fs.sock');
        expect([got[':path'], got['x-n'], got['x-filler'], got.authorization]).toEqual([
          sent[i][':path'],
          String(i),
          sent[i]['x-filler'],
          'Bearer secret',
        ]);
      });
      expect(seen[30]['x-big']).toHaveLength(40_000);
    } finally {
      client.close();
      server.close();
      await new Promise((r) => tcp.close(r));
    }
  });
});
