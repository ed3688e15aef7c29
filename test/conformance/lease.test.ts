/** Leases: grant, revoke, keepalive, time-to-live, listing, attached keys, expiry. */
import { expect, test } from 'vitest';
import { WatchReader, b, prefixEnd, type Msg } from '../helpers/client';
import { expectGrpcError } from '../helpers/grpc-error';
import { Code, Err, currentRev, forEachTarget, hrev, keysOf, kv, n } from './harness';
import { createWatch, events, pause, waitEvents } from './watchutil';

/** Lease IDs are 63-bit: compare them as decimal strings / bigints, never as JS numbers. */
const id = (x: unknown): string => BigInt(x as string).toString();

forEachTarget('lease', (ctx) => {
  test('grant with a server-assigned ID: a positive 63-bit ID, the TTL, and no new revision', async () => {
    const before = await currentRev(ctx.c);
    const g = await ctx.c.lease.LeaseGrant({ TTL: 60 });
    expect(BigInt(g.ID)).toBeGreaterThan(0n);
    expect(BigInt(g.ID)).toBeLessThan(2n ** 63n);
    expect(n(g.TTL)).toBe(60);
    expect(g.error).toBe('');
    expect(hrev(g)).toBe(before);
    const g2 = await ctx.c.lease.LeaseGrant({ TTL: 60 });
    expect(id(g2.ID)).not.toBe(id(g.ID));
    expect(await currentRev(ctx.c)).toBe(before);
    await ctx.c.lease.LeaseRevoke({ ID: g.ID });
    await ctx.c.lease.LeaseRevoke({ ID: g2.ID });
  });

  test('a TTL below the minimum is raised to 2; a too large TTL is OutOfRange', async () => {
    for (const ttl of [1, -5]) {
      const g = await ctx.c.lease.LeaseGrant({ TTL: ttl });
      expect(n(g.TTL), `TTL ${ttl}`).toBe(2);
      await ctx.c.lease.LeaseRevoke({ ID: g.ID });
    }
    await expectGrpcError(ctx.c.lease.LeaseGrant({ TTL: '9000000001' }), Code.OutOfRange, Err.leaseTTLTooLarge);
  });

  test('a client-chosen ID is used as given; granting it again is FailedPrecondition', async () => {
    const want = '7000000000000000123';
    const g = await ctx.c.lease.LeaseGrant({ TTL: 60, ID: want });
    expect(id(g.ID)).toBe(want);
    await expectGrpcError(ctx.c.lease.LeaseGrant({ TTL: 30, ID: want }), Code.FailedPrecondition, Err.leaseExists);
    const t = await ctx.c.lease.LeaseTimeToLive({ ID: want });
    expect(n(t.grantedTTL)).toBe(60);
    await ctx.c.lease.LeaseRevoke({ ID: want });
  });

  test('LeaseLeases lists live leases; a revoked lease disappears', async () => {
    const a = await ctx.c.lease.LeaseGrant({ TTL: 60 });
    const bb = await ctx.c.lease.LeaseGrant({ TTL: 60 });
    const rev = await currentRev(ctx.c);
    let list = await ctx.c.lease.LeaseLeases({});
    expect(list.header).toEqual(ctx.header(rev));
    let ids = (list.leases as Msg[]).map((l) => id(l.ID));
    expect(ids).toEqual(expect.arrayContaining([id(a.ID), id(bb.ID)]));
    await ctx.c.lease.LeaseRevoke({ ID: a.ID });
    list = await ctx.c.lease.LeaseLeases({});
    ids = (list.leases as Msg[]).map((l) => id(l.ID));
    expect(ids).not.toContain(id(a.ID));
    expect(ids).toContain(id(bb.ID));
    await ctx.c.lease.LeaseRevoke({ ID: bb.ID });
  });

  test('LeaseTimeToLive: remaining and granted TTL, attached keys on request; unknown lease is TTL -1, not an error', async () => {
    const p = ctx.prefix('ttl');
    const g = await ctx.c.lease.LeaseGrant({ TTL: 60 });
    for (const k of ['b', 'a', 'c']) await ctx.c.kv.Put({ key: b(p + k), value: b('v'), lease: g.ID });
    const t = await ctx.c.lease.LeaseTimeToLive({ ID: g.ID, keys: true });
    expect(id(t.ID)).toBe(id(g.ID));
    expect(n(t.grantedTTL)).toBe(60);
    expect(n(t.TTL)).toBeLessThanOrEqual(60);
    expect(n(t.TTL)).toBeGreaterThanOrEqual(57);
    expect((t.keys as Buffer[]).map((k) => k.toString()).sort()).toEqual([p + 'a', p + 'b', p + 'c']);
    const noKeys = await ctx.c.lease.LeaseTimeToLive({ ID: g.ID });
    expect(noKeys.keys).toEqual([]);
    const rev = await currentRev(ctx.c);
    const unknown = await ctx.c.lease.LeaseTimeToLive({ ID: '5550001', keys: true });
    expect([id(unknown.ID), n(unknown.TTL), n(unknown.grantedTTL), unknown.keys]).toEqual(['5550001', -1, 0, []]);
    expect(unknown.header).toEqual(ctx.header(rev));
    await ctx.c.lease.LeaseRevoke({ ID: g.ID });
  });

  test('revoke of an unknown lease is NotFound; a second revoke too', async () => {
    await expectGrpcError(ctx.c.lease.LeaseRevoke({ ID: '5550002' }), Code.NotFound, Err.leaseNotFound);
    const g = await ctx.c.lease.LeaseGrant({ TTL: 60 });
    await ctx.c.lease.LeaseRevoke({ ID: g.ID });
    await expectGrpcError(ctx.c.lease.LeaseRevoke({ ID: g.ID }), Code.NotFound, Err.leaseNotFound);
  });

  test('revoke deletes the attached keys at one revision; DELETE events carry prev_kv', async () => {
    const p = ctx.prefix('revoke');
    const g = await ctx.c.lease.LeaseGrant({ TTL: 60 });
    const other = await ctx.c.lease.LeaseGrant({ TTL: 60 });
    for (const k of ['c', 'a', 'b', 'detached', 'moved']) await ctx.c.kv.Put({ key: b(p + k), value: b('v-' + k), lease: g.ID });
    await ctx.c.kv.Put({ key: b(p + 'detached'), value: b('now without lease') }); // lease 0 detaches
    await ctx.c.kv.Txn({ success: [{ request_put: { key: b(p + 'moved'), value: b('m'), lease: other.ID } }] });
    await ctx.c.kv.Put({ key: b(p + 'plain'), value: b('v') });
    const w = ctx.track(new WatchReader(ctx.c.watch()));
    const wid = (await createWatch(w, { key: b(p), range_end: prefixEnd(p), prev_kv: true })).watch_id as string;
    const before = await currentRev(ctx.c);
    const r = await ctx.c.lease.LeaseRevoke({ ID: g.ID });
    expect(hrev(r)).toBe(before + 1);
    expect(keysOf(await ctx.c.kv.Range({ key: b(p), range_end: prefixEnd(p) })).map((k) => k.slice(p.length))).toEqual([
      'detached',
      'moved',
      'plain',
    ]);
    const evs = await waitEvents(w, wid, 3);
    await pause(200);
    const resps = w.responses.filter((x) => x.watch_id === wid && x.events.length > 0);
    expect(resps.length).toBe(1);
    expect(hrev(resps[0])).toBe(before + 1);
    expect(evs.map((e) => [e.type, e.kv.key.slice(p.length), e.kv.mod_revision])).toEqual([
      ['DELETE', 'a', before + 1],
      ['DELETE', 'b', before + 1],
      ['DELETE', 'c', before + 1],
    ]);
    for (const e of evs)
      expect(e.prev_kv).toMatchObject({ key: e.kv.key, value: 'v-' + e.kv.key.slice(p.length), lease: id(g.ID), version: 1 });
    expect(events(w, wid).length).toBe(3);
    await expectGrpcError(ctx.c.kv.Put({ key: b(p + 'x'), value: b('v'), lease: g.ID }), Code.NotFound, Err.leaseNotFound);
    // revoking a lease without keys changes nothing
    const rev2 = await currentRev(ctx.c);
    const empty = await ctx.c.lease.LeaseGrant({ TTL: 60 });
    expect(hrev(await ctx.c.lease.LeaseRevoke({ ID: empty.ID }))).toBe(rev2);
    expect(await currentRev(ctx.c)).toBe(rev2);
    await ctx.c.lease.LeaseRevoke({ ID: other.ID });
    expect(keysOf(await ctx.c.kv.Range({ key: b(p), range_end: prefixEnd(p) })).map((k) => k.slice(p.length))).toEqual([
      'detached',
      'plain',
    ]);
  });

  test('a key carries its lease ID; the LEASE compare sees it', async () => {
    const p = ctx.prefix('leasefield');
    const g = await ctx.c.lease.LeaseGrant({ TTL: 60 });
    await ctx.c.kv.Put({ key: b(p + 'k'), value: b('v'), lease: g.ID });
    expect(kv((await ctx.c.kv.Range({ key: b(p + 'k') })).kvs[0])?.lease).toBe(id(g.ID));
    const t = await ctx.c.kv.Txn({ compare: [{ key: b(p + 'k'), target: 'LEASE', result: 'EQUAL', lease: g.ID }] });
    expect(t.succeeded).toBe(true);
    await ctx.c.lease.LeaseRevoke({ ID: g.ID });
  });

  test('keepalive stream: answers ID and the granted TTL, TTL 0 for an unknown lease; no new revision', async () => {
    const g = await ctx.c.lease.LeaseGrant({ TTL: 30 });
    const before = await currentRev(ctx.c);
    const ka = ctx.track(new WatchReader(ctx.c.keepAlive()));
    ka.send({ ID: g.ID });
    ka.send({ ID: '5550003' });
    ka.send({ ID: g.ID });
    const rs = await ka.take(3);
    expect(rs.map((r) => [id(r.ID), n(r.TTL)])).toEqual([
      [id(g.ID), 30],
      ['5550003', 0],
      [id(g.ID), 30],
    ]);
    for (const r of rs) expect(hrev(r)).toBe(before);
    expect(await currentRev(ctx.c)).toBe(before);
    await ctx.c.lease.LeaseRevoke({ ID: g.ID });
  });

  // The two tests below wait for real time to pass; they run side by side.
  test.concurrent('keepalive keeps a short lease alive past its TTL; it expires once keepalives stop', async () => {
    const p = ctx.prefix('keepalive');
    const g = await ctx.c.lease.LeaseGrant({ TTL: 2 });
    await ctx.c.kv.Put({ key: b(p + 'k'), value: b('v'), lease: g.ID });
    const ka = new WatchReader(ctx.c.keepAlive());
    try {
      const start = Date.now();
      let i = 0;
      while (Date.now() - start < 3500 && i < 20) {
        ka.send({ ID: g.ID });
        i++;
        await pause(700);
      }
      expect(ka.responses.every((r) => n(r.TTL) === 2)).toBe(true);
      expect((await ctx.c.kv.Range({ key: b(p + 'k') })).kvs.length).toBe(1);
      const t = await ctx.c.lease.LeaseTimeToLive({ ID: g.ID });
      expect(n(t.TTL)).toBeGreaterThan(0);
    } finally {
      ka.close();
    }
    const deadline = Date.now() + 8000;
    while ((await ctx.c.kv.Range({ key: b(p + 'k') })).kvs.length > 0 && Date.now() < deadline) await pause(200);
    expect((await ctx.c.kv.Range({ key: b(p + 'k') })).kvs).toEqual([]);
  });

  test.concurrent('expiry deletes the attached keys at one revision with DELETE events carrying prev_kv', async () => {
    const p = ctx.prefix('expiry');
    const g = await ctx.c.lease.LeaseGrant({ TTL: 2 });
    const granted = Date.now();
    for (const k of ['b', 'a', 'c']) await ctx.c.kv.Put({ key: b(p + k), value: b('v'), lease: g.ID });
    await ctx.c.kv.Put({ key: b(p + 'stay'), value: b('v') });
    const w = new WatchReader(ctx.c.watch());
    try {
      const wid = (await createWatch(w, { key: b(p), range_end: prefixEnd(p), prev_kv: true })).watch_id as string;
      const evs = await waitEvents(w, wid, 3, 10_000);
      const elapsed = Date.now() - granted;
      expect(elapsed).toBeGreaterThanOrEqual(1500); // not before the TTL (allowing for rounding)
      await pause(200);
      const resps = w.responses.filter((x) => x.watch_id === wid && x.events.length > 0);
      expect(resps.length).toBe(1);
      const rev = evs[0].kv.mod_revision;
      expect(evs.map((e) => [e.type, e.kv.key.slice(p.length), e.kv.mod_revision])).toEqual([
        ['DELETE', 'a', rev],
        ['DELETE', 'b', rev],
        ['DELETE', 'c', rev],
      ]);
      for (const e of evs) expect(e.prev_kv).toMatchObject({ key: e.kv.key, value: 'v', lease: id(g.ID) });
      expect(keysOf(await ctx.c.kv.Range({ key: b(p), range_end: prefixEnd(p) })).map((k) => k.slice(p.length))).toEqual(['stay']);
      const t = await ctx.c.lease.LeaseTimeToLive({ ID: g.ID, keys: true });
      expect([n(t.TTL), n(t.grantedTTL), t.keys]).toEqual([-1, 0, []]);
      const ids = ((await ctx.c.lease.LeaseLeases({})).leases as Msg[]).map((l) => id(l.ID));
      expect(ids).not.toContain(id(g.ID));
      await expectGrpcError(ctx.c.kv.Put({ key: b(p + 'a'), value: b('v'), lease: g.ID }), Code.NotFound, Err.leaseNotFound);
      await expectGrpcError(ctx.c.lease.LeaseRevoke({ ID: g.ID }), Code.NotFound, Err.leaseNotFound);
    } finally {
      w.close();
    }
  });
});
