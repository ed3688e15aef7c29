// strata as its users run it: the built CLI (node dist/main.js), its flags and STRATA_* variables,
// SIGTERM, kill -9 and restarts on the same SQLite file. strata only (no etcd needed).
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import * as grpc from '@grpc/grpc-js';
import { AGAINST } from '../helpers/against';
import { b, createClient, prefixEnd, s, WatchReader, type EtcdClient, type Msg } from '../helpers/client';
import { expectGrpcError } from '../helpers/grpc-error';
import { headerAt, readIdentity, type Identity } from '../helpers/identity';
import { skipped } from '../helpers/notice';
import { freePort, sleep, waitFor } from '../helpers/ports';
import { ETCD_BIN, haveTool, startStrata, type Server } from '../helpers/servers';
import { putLoad, requireBuild, runCli, spawnCli, startEtcdOn, stopCli, waitServing, type CliProc } from './strata-cli';

// STRATA_TEST_AGAINST=etcd runs the restart/crash tests against real etcd (restarted on its data
// dir), which validates the tests themselves; the CLI tests are strata-only and are skipped then.
const onEtcd = AGAINST === 'etcd';
if (onEtcd) skipped('the CLI tests', "strata only: they test strata's own flags and STRATA_* variables");
const runOnEtcd = onEtcd && haveTool(ETCD_BIN, 'etcd');
/** strata exits 0 on SIGTERM; etcd cleans up and then re-raises the signal (exit code null). */
const CLEAN_EXIT = runOnEtcd ? null : 0;
/** Starts the server under test on a data dir, or restarts it there. */
const startOn = (dataDir: string): Promise<Server> => (runOnEtcd ? startEtcdOn(dataDir) : startStrata({ dataDir }));

const COMPACTED = 'etcdserver: mvcc: required revision has been compacted';

const tmpDirs: string[] = [];
function tmp(tag: string): string {
  const d = mkdtempSync(path.join(tmpdir(), `strata-e2e-${tag}-`));
  tmpDirs.push(d);
  return d;
}

/** Servers / processes still to be torn down if a test fails half-way. */
const live: Array<{ kill(): Promise<void> }> = [];
function trackServer(srv: Server): Server {
  live.push({ kill: () => srv.kill() });
  return srv;
}
function trackCli(p: CliProc): CliProc {
  live.push({
    kill: async () => {
      p.signal('SIGKILL');
      await p.exited;
    },
  });
  return p;
}

beforeAll(() => {
  if (!onEtcd) requireBuild();
});
afterAll(async () => {
  for (const l of live) await l.kill().catch(() => undefined);
  for (const d of tmpDirs) rmSync(d, { recursive: true, force: true });
});

/** Exactly one non-empty line on stderr and nothing that looks like a stack trace. */
function expectOneLineError(r: { stderr: string; stdout: string }, mentions: string): void {
  const lines = r.stderr.split('\n').filter((l) => l.trim() !== '');
  expect(lines, `stderr:\n${r.stderr}\nstdout:\n${r.stdout}`).toHaveLength(1);
  expect(r.stderr).not.toMatch(/^\s+at /m);
  expect(r.stderr.toLowerCase()).toContain(mentions.toLowerCase());
}

async function withClient<T>(address: string, f: (c: EtcdClient) => Promise<T>): Promise<T> {
  const c = createClient(address);
  try {
    return await f(c);
  } finally {
    c.close();
  }
}

async function rev(c: EtcdClient): Promise<number> {
  return Number((await c.kv.Range({ key: b('\u0001probe') })).header.revision);
}

// ---------------------------------------------------------------------------------------------------
describe.skipIf(onEtcd)('CLI: flags and errors', () => {
  const cases: Array<{
    name: string;
    args: (port: number, dir: string) => string[];
    env?: (dir: string) => Record<string, string>;
    mentions: string;
  }> = [
    { name: 'unknown flag', args: () => ['--no-such-flag'], mentions: 'no-such-flag' },
    { name: 'unknown endpoint scheme', args: (p) => ['--listen-address', `127.0.0.1:${p}`, '--endpoint', 'bogus://x'], mentions: 'bogus' },
    {
      name: 'endpoint that is not a URI',
      args: (p) => ['--listen-address', `127.0.0.1:${p}`, '--endpoint', 'notaurl'],
      mentions: 'notaurl',
    },
    {
      name: 'bad --datastore-endpoint',
      args: (p) => ['--listen-address', `127.0.0.1:${p}`, '--datastore-endpoint', 'bogus://x'],
      mentions: 'bogus',
    },
    {
      name: 'bad STRATA_ENDPOINT',
      args: (p) => ['--listen-address', `127.0.0.1:${p}`],
      env: () => ({ STRATA_ENDPOINT: 'bogus://x' }),
      mentions: 'bogus',
    },
    {
      name: 'listen address without a port',
      args: (_p, d) => ['--listen-address', 'not-an-address', '--endpoint', `sqlite://${d}/x.db`],
      mentions: 'not-an-address',
    },
    {
      name: 'listen address with port out of range',
      args: (_p, d) => ['--listen-address', '127.0.0.1:99999', '--endpoint', `sqlite://${d}/x.db`],
      mentions: '99999',
    },
    {
      name: 'listen address with an empty port',
      args: (_p, d) => ['--listen-address', '127.0.0.1:', '--endpoint', `sqlite://${d}/x.db`],
      mentions: '127.0.0.1:',
    },
    {
      name: 'bad STRATA_LISTEN_ADDRESS',
      args: (_p, d) => ['--endpoint', `sqlite://${d}/x.db`],
      env: () => ({ STRATA_LISTEN_ADDRESS: 'nope' }),
      mentions: 'nope',
    },
  ];
  for (const c of cases) {
    test(`${c.name} → exit 2, one line on stderr`, async () => {
      const dir = tmp('flags');
      const r = await runCli(c.args(await freePort(), dir), { cwd: dir, env: c.env?.(dir), timeoutMs: 10_000 });
      expect(r.timedOut, `strata kept running; stderr:\n${r.stderr}`).toBe(false);
      expect(r.code, `stderr:\n${r.stderr}`).toBe(2);
      expectOneLineError(r, c.mentions);
    });
  }

  test('--help exits 0 and lists the flags', async () => {
    const dir = tmp('help');
    const r = await runCli(['--help'], { cwd: dir });
    expect(r.code, r.stderr).toBe(0);
    for (const f of ['--listen-address', '--endpoint', '--datastore-endpoint']) expect(r.stdout).toContain(f);
  });

  test('--help lists every documented flag', async () => {
    const r = await runCli(['--help'], { cwd: tmp('help') });
    expect(r.code, r.stderr).toBe(0);
    for (const f of [
      '--log-level',
      '--emulated-etcd-version',
      '--watch-progress-notify-interval',
      '--max-request-bytes',
      '--max-txn-ops',
    ]) {
      expect(r.stdout).toContain(f);
    }
  });
});

// ---------------------------------------------------------------------------------------------------
describe.skipIf(onEtcd)('CLI: configuration from STRATA_* variables and endpoint forms', () => {
  /** Starts the CLI on a new database, checks it serves reads and writes at `address`, stops it (exit 0). */
  async function serveAndStop(p: CliProc, address: string): Promise<void> {
    trackCli(p);
    await waitServing(p, address);
    await withClient(address, async (c) => {
      const put = await c.kv.Put({ key: b('cfg'), value: b('ok') });
      expect(put.header.revision, 'the first write to a new database').toBe('2');
      const got = await c.kv.Range({ key: b('cfg') });
      expect(s(got.kvs[0]?.value)).toBe('ok');
    });
    const st = await stopCli(p);
    expect(st.killed, 'did not exit within 10 s of SIGTERM').toBe(false);
    expect(st.code, p.stderr()).toBe(0);
  }

  test('STRATA_LISTEN_ADDRESS and STRATA_ENDPOINT alone', async () => {
    const dir = tmp('env');
    const address = `127.0.0.1:${await freePort()}`;
    const db = path.join(dir, 'env.db');
    const p = spawnCli([], {
      cwd: dir,
      env: { STRATA_LISTEN_ADDRESS: address, STRATA_ENDPOINT: `sqlite://${db}`, STRATA_LOG_LEVEL: 'warn' },
    });
    await serveAndStop(p, address);
    expect(existsSync(db), 'the database is where STRATA_ENDPOINT says').toBe(true);
  });

  test('STRATA_DATASTORE_ENDPOINT', async () => {
    const dir = tmp('env-ds');
    const address = `127.0.0.1:${await freePort()}`;
    const db = path.join(dir, 'ds.db');
    const p = spawnCli([], { cwd: dir, env: { STRATA_LISTEN_ADDRESS: address, STRATA_DATASTORE_ENDPOINT: `sqlite://${db}` } });
    await serveAndStop(p, address);
    expect(existsSync(db)).toBe(true);
  });

  test('--datastore-endpoint is an alias of --endpoint', async () => {
    const dir = tmp('flag-ds');
    const address = `127.0.0.1:${await freePort()}`;
    const db = path.join(dir, 'flag.db');
    const p = spawnCli(['--listen-address', address, '--datastore-endpoint', `sqlite://${db}`, '--log-level', 'warn'], { cwd: dir });
    await serveAndStop(p, address);
    expect(existsSync(db)).toBe(true);
  });

  test('a flag beats its STRATA_* variable', async () => {
    const dir = tmp('precedence');
    const [envPort, flagPort] = [await freePort(), await freePort()];
    const address = `127.0.0.1:${flagPort}`;
    const p = spawnCli(['--listen-address', address], {
      cwd: dir,
      env: { STRATA_LISTEN_ADDRESS: `127.0.0.1:${envPort}`, STRATA_ENDPOINT: `sqlite://${path.join(dir, 'p.db')}` },
    });
    await serveAndStop(p, address);
  });

  test('default endpoint sqlite://./db/state.db is relative to the working directory', async () => {
    const dir = tmp('default-ep');
    const address = `127.0.0.1:${await freePort()}`;
    const p = spawnCli(['--listen-address', address], { cwd: dir });
    await serveAndStop(p, address);
    expect(existsSync(path.join(dir, 'db', 'state.db'))).toBe(true);
  });

  test('sqlite://relative/path.db and sqlite:///abs/path.db?params', async () => {
    const dir = tmp('ep-forms');
    mkdirSync(path.join(dir, 'rel'));
    const a1 = `127.0.0.1:${await freePort()}`;
    await serveAndStop(spawnCli(['--listen-address', a1, '--endpoint', 'sqlite://rel/r.db'], { cwd: dir }), a1);
    expect(existsSync(path.join(dir, 'rel', 'r.db'))).toBe(true);

    const abs = path.join(dir, 'abs.db');
    expect(abs.startsWith('/')).toBe(true);
    const a2 = `127.0.0.1:${await freePort()}`;
    await serveAndStop(
      spawnCli(['--listen-address', a2, '--endpoint', `sqlite://${abs}?_busy_timeout=5000&_journal=WAL`], { cwd: dir }),
      a2,
    );
    expect(existsSync(abs)).toBe(true);
  });

  test('the other flags read STRATA_* too (version, name, txn ops, request bytes, progress interval)', async () => {
    const dir = tmp('env-all');
    const address = `127.0.0.1:${await freePort()}`;
    const p = trackCli(
      spawnCli([], {
        cwd: dir,
        env: {
          STRATA_LISTEN_ADDRESS: address,
          STRATA_ENDPOINT: `sqlite://${path.join(dir, 'all.db')}`,
          STRATA_LOG_LEVEL: 'error',
          STRATA_EMULATED_ETCD_VERSION: '3.5.99',
          STRATA_NAME: 'env-member',
          STRATA_MAX_TXN_OPS: '2',
          STRATA_MAX_REQUEST_BYTES: '4096',
          STRATA_WATCH_PROGRESS_NOTIFY_INTERVAL: '300ms',
        },
      }),
    );
    await waitServing(p, address);
    await withClient(address, async (c) => {
      expect((await c.maintenance.Status({})).version).toBe('3.5.99');
      const members = (await c.cluster.MemberList({})).members as Msg[];
      expect(members.map((m) => m.name)).toEqual(['env-member']);

      const put = (k: string) => ({ request_put: { key: b(k), value: b('v') } });
      await c.kv.Txn({ success: [put('t1'), put('t2')] }); // 2 ops: allowed
      await expectGrpcError(
        c.kv.Txn({ success: [put('t1'), put('t2'), put('t3')] }),
        grpc.status.INVALID_ARGUMENT,
        'etcdserver: too many operations in txn request',
      );

      await c.kv.Put({ key: b('small'), value: Buffer.alloc(1000) });
      await expectGrpcError(
        c.kv.Put({ key: b('big'), value: Buffer.alloc(8192) }),
        grpc.status.INVALID_ARGUMENT,
        'etcdserver: request is too large',
      );

      const w = new WatchReader(c.watch());
      try {
        w.send({ create_request: { key: b('pn'), progress_notify: true } });
        await w.until((rs) => rs.some((r) => r.created));
        // a progress notification: no events, not created/canceled, header.revision set
        await w.until(
          (rs) => rs.some((r) => !r.created && !r.canceled && (r.events as Msg[]).length === 0 && r.header?.revision !== '0'),
          5_000,
        );
      } finally {
        w.close();
      }
    });
    const st = await stopCli(p);
    expect(st.code, p.stderr()).toBe(0);
  });
});

// ---------------------------------------------------------------------------------------------------
describe.skipIf(onEtcd && !runOnEtcd)('lifecycle: signals, crashes and restarts on the same SQLite file', () => {
  test('revision continuity: empty store is revision 1, first write 2, restart continues; compaction and identity persist', async () => {
    const dataDir = tmp('revs');
    let srv = trackServer(await startOn(dataDir));
    let identity: Identity | undefined;
    await withClient(srv.address, async (c) => {
      identity = (await readIdentity(c)).identity;
      const empty = await c.kv.Range({ key: b('a') });
      expect(empty.header).toEqual(headerAt(identity, 1));
      expect(empty.kvs).toEqual([]);
      expect((await c.kv.Put({ key: b('a'), value: b('1') })).header.revision).toBe('2');
      expect((await c.kv.Put({ key: b('b'), value: b('2') })).header.revision).toBe('3');
      expect((await c.kv.Put({ key: b('a'), value: b('3') })).header.revision).toBe('4');
      await c.kv.Compact({ revision: 3 });
    });
    expect(await srv.stop()).toBe(CLEAN_EXIT);

    srv = trackServer(await startOn(dataDir));
    await withClient(srv.address, async (c) => {
      // The ids are kept; etcd's raft term goes up with the election after a restart.
      const { cluster_id, member_id } = (await readIdentity(c)).identity;
      expect({ cluster_id, member_id }, 'cluster and member id after the restart').toEqual({
        cluster_id: identity?.cluster_id,
        member_id: identity?.member_id,
      });
      expect(await rev(c)).toBe(4);
      const a = await c.kv.Range({ key: b('a') });
      expect(a.kvs.map((kv: Msg) => [s(kv.value), kv.create_revision, kv.mod_revision, kv.version])).toEqual([['3', '2', '4', '2']]);
      expect((await c.kv.Put({ key: b('c'), value: b('x') })).header.revision).toBe('5');
      await expectGrpcError(c.kv.Range({ key: b('a'), revision: 2 }), grpc.status.OUT_OF_RANGE, COMPACTED);
      await expectGrpcError(c.kv.Compact({ revision: 3 }), grpc.status.OUT_OF_RANGE, COMPACTED);
      const at3 = await c.kv.Range({ key: b('a'), revision: 3 });
      expect(at3.kvs.map((kv: Msg) => s(kv.value))).toEqual(['1']);
    });
    expect(await srv.stop()).toBe(CLEAN_EXIT);
  });

  test('SIGTERM with an open watch and writes in flight: exit 0 promptly, stream ends, acked writes survive', async () => {
    const dataDir = tmp('sigterm');
    const srv = trackServer(await startOn(dataDir));
    const c = createClient(srv.address);
    const w = new WatchReader(c.watch());
    let exit: { code: number | null; ms: number } | undefined;
    try {
      w.send({ create_request: { key: b('sig/'), range_end: prefixEnd('sig/') } });
      await w.until((rs) => rs.some((r) => r.created));

      let signalled = false;
      let t0 = 0;
      const load = putLoad(c, {
        prefix: 'sig/',
        n: 100_000,
        inflight: 8,
        deadline: Date.now() + 15_000,
        onAck: (n) => {
          if (n === 200 && !signalled) {
            signalled = true;
            t0 = Date.now();
            srv.proc.kill('SIGTERM');
          }
        },
      });
      const { acked, sent } = await load;
      expect(signalled, `only ${acked.length} of ${sent.length} puts were acknowledged`).toBe(true);
      const code = await Promise.race([srv.exited, sleep(10_000).then(() => 'timeout' as const)]);
      expect(code, `strata did not exit within 10 s of SIGTERM; logs:\n${srv.logs()}`).not.toBe('timeout');
      exit = { code: code as number | null, ms: Date.now() - t0 };
      expect(exit.code, srv.logs()).toBe(CLEAN_EXIT);
      expect(exit.ms, 'exit within a few seconds of SIGTERM').toBeLessThan(5_000);

      await waitFor(() => w.ended, 5_000, 'the watch stream to end');

      // What the watcher saw before the end: ordered, and only writes that were really sent.
      const events = w.events();
      const revs = events.map((e) => Number(e.kv.mod_revision));
      expect(revs).toEqual([...revs].sort((x, y) => x - y));
      const sentValue = new Map(sent.map((r) => [r.key, r.value]));
      for (const e of events) expect(s(e.kv.value)).toBe(sentValue.get(s(e.kv.key)));

      // Restart on the same database: every acknowledged write is there.
      const srv2 = trackServer(await startOn(dataDir));
      await withClient(srv2.address, async (c2) => {
        const all = await c2.kv.Range({ key: b('sig/'), range_end: prefixEnd('sig/') });
        const byKey = new Map((all.kvs as Msg[]).map((kv) => [s(kv.key), kv]));
        for (const a of acked) {
          const kv = byKey.get(a.key);
          expect(kv, `acknowledged put ${a.key} @${a.rev} is missing after restart`).toBeDefined();
          expect(s(kv?.value)).toBe(a.value);
          expect(Number(kv?.mod_revision)).toBe(a.rev);
        }
        for (const [k, kv] of byKey) expect(s(kv.value)).toBe(sentValue.get(k));
        const maxAck = Math.max(...acked.map((a) => a.rev ?? 0));
        expect(Number(all.header.revision)).toBeGreaterThanOrEqual(maxAck);
        // every watch event the client saw is durable too (it was committed before it was sent)
        for (const e of events) expect(byKey.get(s(e.kv.key))?.mod_revision).toBe(e.kv.mod_revision);
      });
      expect(await srv2.stop()).toBe(CLEAN_EXIT);
    } finally {
      w.close();
      c.close();
    }
  });

  test('kill -9 mid-load: acknowledged puts survive, revisions are gap-free and linearizable', async () => {
    const dataDir = tmp('kill9');
    const srv = trackServer(await startOn(dataDir));
    const c = createClient(srv.address);
    let base: number;
    let result: Awaited<ReturnType<typeof putLoad>>;
    try {
      base = await rev(c);
      let killed = false;
      result = await putLoad(c, {
        prefix: 'k9/',
        n: 2_000,
        inflight: 64,
        deadline: Date.now() + 20_000,
        onAck: (n) => {
          if (n === 700 && !killed) {
            killed = true;
            srv.proc.kill('SIGKILL');
          }
        },
      });
      expect(killed, `only ${result.acked.length} puts were acknowledged`).toBe(true);
      await srv.exited;
    } finally {
      c.close();
    }
    const { acked, sent } = result;
    expect(acked.length).toBeGreaterThanOrEqual(700);
    expect(sent.length, 'the kill happened mid-load').toBeLessThan(2_000);

    // Acknowledged revisions are distinct, and a put sent after another was acknowledged got a
    // higher revision (etcd's linearizability; concurrent puts may be acknowledged in any order).
    const ackRevs = acked.map((a) => a.rev as number);
    expect(new Set(ackRevs).size).toBe(ackRevs.length);
    for (const a of acked) expect(a.rev as number, `put ${a.key}`).toBeGreaterThan(a.maxAckedAtSend);
    expect(Math.min(...ackRevs)).toBeGreaterThan(base);

    const srv2 = trackServer(await startOn(dataDir));
    await withClient(srv2.address, async (c2) => {
      const all = await c2.kv.Range({ key: b('k9/'), range_end: prefixEnd('k9/') });
      const head = Number(all.header.revision);
      const byKey = new Map((all.kvs as Msg[]).map((kv) => [s(kv.key), kv]));
      const sentByKey = new Map(sent.map((r) => [r.key, r]));
      for (const a of acked) {
        const kv = byKey.get(a.key);
        expect(kv, `acknowledged put ${a.key} @${a.rev} is missing after kill -9`).toBeDefined();
        expect(s(kv?.value)).toBe(a.value);
        expect([Number(kv?.create_revision), Number(kv?.mod_revision), Number(kv?.version)]).toEqual([a.rev, a.rev, 1]);
      }
      expect(head).toBeGreaterThanOrEqual(Math.max(...ackRevs));
      // Nothing but what was sent, and (one put = one revision) no hole below the head: every
      // revision in (base, head] belongs to exactly one surviving key.
      for (const [k, kv] of byKey) {
        expect(sentByKey.has(k), `key ${k} was never sent`).toBe(true);
        expect(s(kv.value)).toBe(sentByKey.get(k)?.value);
      }
      const present = [...byKey.values()].map((kv) => Number(kv.mod_revision)).sort((x, y) => x - y);
      expect(present).toEqual(Array.from({ length: head - base }, (_, i) => base + 1 + i));
      // and the next write continues from there
      expect(Number((await c2.kv.Put({ key: b('after'), value: b('x') })).header.revision)).toBe(head + 1);
    });
    expect(await srv2.stop()).toBe(CLEAN_EXIT);
  });

  test('leases survive a restart; a lease that expired while strata was down is expired after restart', async () => {
    const dataDir = tmp('leases');
    const srv = trackServer(await startOn(dataDir));
    let long = '';
    let short = '';
    await withClient(srv.address, async (c) => {
      long = (await c.lease.LeaseGrant({ TTL: 60 })).ID as string;
      short = (await c.lease.LeaseGrant({ TTL: 2 })).ID as string;
      await c.kv.Put({ key: b('lease/long'), value: b('L'), lease: long });
      await c.kv.Put({ key: b('lease/short'), value: b('S'), lease: short });
    });
    expect(await srv.stop()).toBe(CLEAN_EXIT);
    await sleep(3_000); // the 2 s lease expires while the server is down

    const srv2 = trackServer(await startOn(dataDir));
    await withClient(srv2.address, async (c) => {
      const ttl = await c.lease.LeaseTimeToLive({ ID: long, keys: true });
      expect(ttl.grantedTTL).toBe('60');
      expect(Number(ttl.TTL)).toBeGreaterThan(0);
      expect(Number(ttl.TTL)).toBeLessThanOrEqual(60);
      expect((ttl.keys as Buffer[]).map((k) => s(k))).toEqual(['lease/long']);
      const leases = (await c.lease.LeaseLeases({})).leases as Msg[];
      expect(leases.map((l) => l.ID)).toContain(long);

      // etcd extends leases on restart by their TTL; either way the 2 s lease is gone within a few seconds
      await waitFor(
        async () => (await c.kv.Range({ key: b('lease/short') })).kvs.length === 0,
        8_000,
        'the expired lease to delete its key after restart',
      );
      const gone = await c.lease.LeaseTimeToLive({ ID: short });
      expect(gone.TTL).toBe('-1');
      expect((await c.kv.Range({ key: b('lease/long') })).kvs.map((kv: Msg) => [s(kv.value), kv.lease])).toEqual([['L', long]]);
    });
    expect(await srv2.stop()).toBe(CLEAN_EXIT);
  });
});
