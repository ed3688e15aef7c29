/**
 * The space quota and alarms against the real etcd: both run with a quota below their empty
 * database's size, so the first write raises NOSPACE. Error strings and codes, the alarm list,
 * Status.errors, what keeps working, /health, disarming and the CORRUPT alarm are compared.
 * etcd 3.4's /health has no "reason" (3.5 adds it); strata answers as 3.5 and that field is
 * checked on strata alone.
 */
import * as grpc from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { b, createClient, type EtcdClient, type Msg } from '../helpers/client';
import { ETCD_BIN, haveTool, startEtcd, startStrata, type Server } from '../helpers/servers';
import { request } from '../gateway/http';

interface Side {
  server: Server;
  c: EtcdClient;
  member: string;
}

const outcome = async (p: Promise<Msg>): Promise<unknown> => {
  try {
    const r = await p;
    delete r.header;
    return { ok: r };
  } catch (e) {
    const err = e as grpc.ServiceError;
    return { code: grpc.status[err.code], details: err.details };
  }
};

/** Alarm members with the side's own member ID written as "self". */
const alarmsOf = (s: Side, r: unknown) => {
  const alarms = ((r as { ok?: Msg }).ok?.alarms ?? []) as Msg[];
  return alarms.map((a) => ({ memberID: a.memberID === s.member ? 'self' : a.memberID, alarm: a.alarm }));
};

const health = async (s: Side) => (await request(s.server.url, 'GET', '/health')).json as { health: string; reason?: string };

describe.runIf(haveTool(ETCD_BIN, 'etcd'))('quota and alarms vs etcd', () => {
  const sides: Side[] = [];
  beforeAll(async () => {
    const servers = await Promise.all([
      startEtcd({ args: ['--quota-backend-bytes', '16384'] }),
      startStrata({ args: ['--quota-backend-bytes', '16384'] }),
    ]);
    for (const server of servers) {
      const c = createClient(server.address);
      const st = await c.maintenance.Status({});
      sides.push({ server, c, member: st.header.member_id as string });
    }
  });
  afterAll(async () => {
    for (const s of sides) {
      s.c.close();
      const code = await s.server.stop();
      if (s.server.kind === 'strata') expect(code, s.server.logs()).toBe(0);
      s.server.cleanup();
    }
  });

  /** Runs fn on both sides and expects the same answer. */
  const both = async (what: string, fn: (s: Side) => Promise<unknown>): Promise<unknown> => {
    const [etcd, strata] = await Promise.all(sides.map(fn));
    expect(strata, what).toEqual(etcd);
    return etcd;
  };

  test('over quota: NOSPACE is raised and only writes that add data fail', async () => {
    const noSpace = { code: 'RESOURCE_EXHAUSTED', details: 'etcdserver: mvcc: database space exceeded' };
    expect(await both('put', (s) => outcome(s.c.kv.Put({ key: b('a'), value: b('1') })))).toEqual(noSpace);
    await both('alarm list', async (s) => alarmsOf(s, await outcome(s.c.maintenance.Alarm({ action: 'GET' }))));
    const list = alarmsOf(sides[1], await outcome(sides[1].c.maintenance.Alarm({ action: 'GET' })));
    expect(list).toEqual([{ memberID: 'self', alarm: 'NOSPACE' }]);
    await both('Status.errors', async (s) => {
      const st = await s.c.maintenance.Status({});
      return (st.errors as string[]).map((e) => e.replace(s.member, 'self'));
    });
    expect(await both('put again', (s) => outcome(s.c.kv.Put({ key: b('a'), value: b('2') })))).toEqual(noSpace);
    await both('txn with a put', (s) => outcome(s.c.kv.Txn({ success: [{ request_put: { key: b('a'), value: b('3') } }] })));
    await both('lease grant', (s) => outcome(s.c.lease.LeaseGrant({ TTL: 10 })));
    await both('range', (s) => outcome(s.c.kv.Range({ key: b('a') })));
    await both('delete', (s) => outcome(s.c.kv.DeleteRange({ key: b('a') })));
    await both('txn with a delete only', (s) => outcome(s.c.kv.Txn({ success: [{ request_delete_range: { key: b('a') } }] })));
    await both('compact', async (s) => {
      const rev = Number((await s.c.kv.Range({ key: b('a') })).header.revision);
      return outcome(s.c.kv.Compact({ revision: rev }));
    });
    await both('/health', async (s) => (await health(s)).health);
    expect(await health(sides[1])).toEqual({ health: 'false', reason: 'ALARM NOSPACE' });
    // etcd 3.5's /health?exclude=NOSPACE ignores it.
    expect(await health(sides[1]).then(() => request(sides[1].server.url, 'GET', '/health?exclude=NOSPACE'))).toMatchObject({
      json: { health: 'true' },
    });
  });

  test('disarm clears NOSPACE; ACTIVATE and DEACTIVATE answer the alarm changed', async () => {
    await both('deactivate', async (s) =>
      alarmsOf(s, await outcome(s.c.maintenance.Alarm({ action: 'DEACTIVATE', memberID: s.member, alarm: 'NOSPACE' }))),
    );
    await both('deactivate again (not raised)', async (s) =>
      alarmsOf(s, await outcome(s.c.maintenance.Alarm({ action: 'DEACTIVATE', memberID: s.member, alarm: 'NOSPACE' }))),
    );
    await both('alarm list after disarm', async (s) => alarmsOf(s, await outcome(s.c.maintenance.Alarm({ action: 'GET' }))));
    await both('/health after disarm', async (s) => (await health(s)).health);
    await both('activate CORRUPT for member 42', async (s) =>
      alarmsOf(s, await outcome(s.c.maintenance.Alarm({ action: 'ACTIVATE', memberID: 42, alarm: 'CORRUPT' }))),
    );
    await both('activate CORRUPT again', async (s) =>
      alarmsOf(s, await outcome(s.c.maintenance.Alarm({ action: 'ACTIVATE', memberID: 42, alarm: 'CORRUPT' }))),
    );
    // etcd 3.4 stores an alarm of type NONE (and answers it); 3.5 ignores ACTIVATE of NONE, as strata does.
    expect(alarmsOf(sides[1], await outcome(sides[1].c.maintenance.Alarm({ action: 'ACTIVATE', memberID: 42 })))).toEqual([]);
    await both('GET CORRUPT only', async (s) => alarmsOf(s, await outcome(s.c.maintenance.Alarm({ action: 'GET', alarm: 'CORRUPT' }))));
    await both('delete while CORRUPT', (s) => outcome(s.c.kv.DeleteRange({ key: b('a') })));
    await both('range while CORRUPT', (s) => outcome(s.c.kv.Range({ key: b('a') })));
    await both('/health while CORRUPT', async (s) => (await health(s)).health);
    expect(await health(sides[1])).toEqual({ health: 'false', reason: 'ALARM CORRUPT' });
    await both('disarm CORRUPT', async (s) =>
      alarmsOf(s, await outcome(s.c.maintenance.Alarm({ action: 'DEACTIVATE', memberID: 42, alarm: 'CORRUPT' }))),
    );
    await both('/health at the end', async (s) => (await health(s)).health);
  });
});
