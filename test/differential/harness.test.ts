// Unit checks of the differential harness's pure parts (no servers).
import { describe, expect, test } from 'vitest';
import { applyIgnore, applyTolerance, normalise, showBytes, watchOrder } from './harness';

describe('differential harness', () => {
  test('normalise drops cluster_id/member_id/raft_term at any depth and shows bytes', () => {
    const h = { cluster_id: '9', member_id: '8', raft_term: '2', revision: '12' };
    const v = normalise(
      {
        header: h,
        responses: [{ response_range: { header: h, kvs: [{ key: Buffer.from('a'), value: Buffer.from([0xff, 0]) }] } }],
        events: [{ kv: { key: Buffer.from([0xc3, 0xa9]), create_revision: '10', mod_revision: '0', lease: '77' } }],
      },
      { base: 10, aliases: new Map([['77', 'L']]) },
    );
    expect(v).toEqual({
      header: { revision: 'base+2' },
      responses: [{ response_range: { header: { revision: 'base+2' }, kvs: [{ key: 'a', value: '<hex ff00>' }] } }],
      events: [{ kv: { key: 'é', create_revision: 'base+0', mod_revision: '0', lease: '<lease L>' } }],
    });
    expect(normalise({ header: h }, {})).toEqual({ header: { revision: '12' } });
    // With the server's identity, its own fields become placeholders and anything else stays visible.
    const identity = { cluster_id: '9', member_id: '8', raft_term: '2' };
    expect(
      normalise({ header: { ...h, member_id: '7' }, responses: [{ response_put: { header: { ...h, cluster_id: '0' } } }] }, { identity }),
    ).toEqual({
      header: { cluster_id: '<cluster_id>', member_id: '7', raft_term: '<raft_term>', revision: '12' },
      responses: [{ response_put: { header: { cluster_id: '0', member_id: '<member_id>', raft_term: '<raft_term>', revision: '12' } } }],
    });
    expect(normalise({ compact_revision: '3' }, { base: 10 })).toEqual({ compact_revision: 'abs:3' });
  });

  test('showBytes: printable UTF-8 as text, anything else as hex', () => {
    expect(showBytes(Buffer.from('/registry/pods/'))).toBe('/registry/pods/');
    expect(showBytes(Buffer.from('k8s\0x'))).toBe('<hex 6b38730078>');
    expect(showBytes(Buffer.from([0xc3, 0x28]))).toBe('<hex c328>');
    expect(showBytes(Buffer.alloc(0))).toBe('');
  });

  test('ignore and tolerance', () => {
    const a = { TTL: '59', items: [{ dbSize: '1' }, { dbSize: '2' }], nested: { x: { TTL: '10' } } };
    const b = { TTL: '60', items: [{ dbSize: '5' }], nested: { x: { TTL: '12' } } };
    applyIgnore(a, ['items.*.dbSize']);
    applyIgnore(b, ['items.*.dbSize']);
    applyTolerance(a, b, { '**.TTL': 1 });
    expect(a.items).toEqual([{ dbSize: '<ignored>' }, { dbSize: '<ignored>' }]);
    expect(b.items).toEqual([{ dbSize: '<ignored>' }]);
    expect(b.TTL).toBe('59');
    expect(b.nested.x.TTL).toBe('12'); // outside the tolerance: left to fail the comparison
  });

  test('watchOrder sorts by watch_id only within one revision', () => {
    const r = (rev: string, id: string) => ({ header: { revision: rev }, watch_id: id });
    expect(watchOrder([r('5', '2'), r('5', '0'), r('6', '1'), r('6', '0'), r('4', '9')])).toEqual([
      r('5', '0'),
      r('5', '2'),
      r('6', '0'),
      r('6', '1'),
      r('4', '9'),
    ]);
  });
});
