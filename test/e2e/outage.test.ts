/**
 * The database away, as operators meet it: start-up waits for it (logging each reason once, SIGTERM
 * during the wait exits 0); an outage while serving answers Unavailable "etcdserver: request timed
 * out" to what needs the database, serializable reads go on, and the log has one line when the
 * outage starts and one when it ends — no stack traces. PostgreSQL sits behind a proxy the test
 * cuts. Plus the slow-request and slow-SQL warnings in the text log format (SQLite).
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { describe, expect, it } from 'vitest';
import { b, createClient, type EtcdClient } from '../helpers/client';
import { dbProxy, type DbProxy } from '../helpers/db-proxy';
import { expectGrpcError } from '../helpers/grpc-error';
import { freePort, waitFor } from '../helpers/ports';
import { startStrata, STRATA_BIN, type Server } from '../helpers/servers';
import { SOLO_TTL_MS, takeSoloLease } from '../helpers/solo';
import { databaseFor, PG_BASE, testBackend } from '../helpers/targets';

const TIMED_OUT = 'etcdserver: request timed out';
const pg = testBackend('postgres');

function pgBehind(port: number) {
  const u = new URL(PG_BASE);
  return (d: string) => `postgres://${u.username}${u.password ? `:${u.password}` : ''}@127.0.0.1:${port}/${databaseFor(d)}?sslmode=disable`;
}

const pgTarget = () => {
  const u = new URL(PG_BASE);
  return { host: u.hostname, port: Number(u.port || 5432) };
};

/** A strata on PostgreSQL behind a proxy the test cuts, with a client; stopped (exit 0) after `fn`. */
async function behindProxy(args: string[], fn: (s: { proxy: DbProxy; server: Server; c: EtcdClient }) => Promise<void>): Promise<void> {
  const proxy = await dbProxy(pgTarget());
  const server = await startStrata({ endpoint: pgBehind(proxy.port), args, onCleanup: (d) => pg!.drop(d) });
  const c = createClient(server.address);
  try {
    await fn({ proxy, server, c });
  } finally {
    c.close();
    await proxy.open();
    expect(await server.stop()).toBe(0);
    server.cleanup();
    await proxy.cut();
  }
}

describe.runIf(pg)('database outages (PostgreSQL behind a proxy)', () => {
  it('start-up waits for the database, logging the reason once, then serves', async () => {
    const proxy = await dbProxy(pgTarget(), false);
    const opening = setTimeout(() => void proxy.open(), 2000);
    const server = await startStrata({
      endpoint: pgBehind(proxy.port),
      args: ['--log-level', 'info', '--log-format', 'text'],
      onCleanup: (d) => pg!.drop(d),
    });
    try {
      clearTimeout(opening);
      const logs = server.logs();
      const waits = logs.split('\n').filter((l) => l.includes('database not reachable yet; retrying'));
      expect(waits.length, logs).toBe(1);
      expect(waits[0]).toMatch(/^\d{4}-\d\d-\d\dT\S+Z WARN {2}\[start\] database not reachable yet; retrying reason=.*ECONNREFUSED/);
      expect(logs).toMatch(/INFO {2}\[start\] database reachable; starting attempts=\d+/);
      expect(logs).not.toMatch(/^\s+at /m);
    } finally {
      expect(await server.stop()).toBe(0);
      server.cleanup();
      await proxy.cut();
    }
  });

  it('SIGTERM while waiting for the database exits 0', async () => {
    const proxy = await dbProxy(pgTarget(), false);
    const dir = mkdtempSync(path.join(tmpdir(), 'strata-wait-'));
    const proc = spawn(
      process.execPath,
      [STRATA_BIN, '--listen-address', `127.0.0.1:${await freePort()}`, '--endpoint', pgBehind(proxy.port)(dir), '--log-level', 'info'],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let out = '';
    proc.stdout.on('data', (d: Buffer) => (out += d.toString()));
    proc.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const exited = new Promise<number | null>((r) => proc.on('exit', (code) => r(code)));
    try {
      await waitFor(() => out.includes('database not reachable yet'), 15_000, 'the wait to begin');
      proc.kill('SIGTERM');
      expect(await exited, out).toBe(0);
    } finally {
      if (proc.exitCode === null) proc.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('an outage answers Unavailable "request timed out", logs one line at each end, and heals', async () => {
    // Every linearizable read through the database (the solo lease's case is the next test).
    await behindProxy(['--solo-reads', 'off'], async ({ proxy, server, c }) => {
      await c.kv.Put({ key: b('k'), value: b('1') });
      await proxy.cut();
      await expectGrpcError(c.kv.Range({ key: b('k') }), grpc.status.UNAVAILABLE, TIMED_OUT);
      await expectGrpcError(c.kv.Range({ key: b('k') }), grpc.status.UNAVAILABLE, TIMED_OUT);
      await expectGrpcError(c.kv.Put({ key: b('k'), value: b('2') }), grpc.status.UNAVAILABLE, TIMED_OUT);
      // Serializable reads answer from memory.
      expect((await c.kv.Range({ key: b('k'), serializable: true })).kvs[0].value.toString()).toBe('1');
      await proxy.open();
      await waitFor(async () => !!(await c.kv.Put({ key: b('k'), value: b('3') })), 20_000, 'writes again');
      await waitFor(() => server.logs().includes('database reachable again'), 5000, 'the end of the outage logged');
      const logs = server.logs();
      expect(logs.match(/"msg":"database unreachable"/g), logs).toHaveLength(1);
      expect(logs.match(/"msg":"database reachable again"/g), logs).toHaveLength(1);
      // No stack traces (pino's err serializer writes "stack":"Error: …\n    at …").
      expect(logs).not.toMatch(/\\n\s+at /);
    });
  }, 60_000);

  it('with the solo lease held, linearizable reads answer from memory only until the lease would have ended', async () => {
    await behindProxy(['--solo-reads', 'on'], async ({ proxy, server, c }) => {
      await c.kv.Put({ key: b('k'), value: b('1') });
      await takeSoloLease(server, c, 'k');
      await proxy.cut();
      const cutAt = Date.now();
      // Nobody else can commit before the lease's end: the read from memory is still linearizable.
      const early = await c.kv.Range({ key: b('k') }).then(
        (r) => r.kvs[0].value.toString(),
        (e: grpc.ServiceError) => `${e.code} ${e.details}`,
      );
      expect(['1', `${grpc.status.UNAVAILABLE} ${TIMED_OUT}`]).toContain(early);
      await expectGrpcError(c.kv.Put({ key: b('k'), value: b('2') }), grpc.status.UNAVAILABLE, TIMED_OUT);
      // The lease could not be renewed: once it would have ended, the fence is read again and fails.
      await new Promise((r) => setTimeout(r, Math.max(0, cutAt + SOLO_TTL_MS + 100 - Date.now())));
      await expectGrpcError(c.kv.Range({ key: b('k') }), grpc.status.UNAVAILABLE, TIMED_OUT);
      await proxy.open();
      await waitFor(async () => !!(await c.kv.Put({ key: b('k'), value: b('3') })), 20_000, 'writes again');
      expect((await c.kv.Range({ key: b('k') })).kvs[0].value.toString()).toBe('3');
    });
  }, 60_000);
});

describe('slow requests and slow SQL, in the text log format', () => {
  it('warns with method, key range, revision and duration', async () => {
    const server = await startStrata({
      args: ['--log-format', 'text', '--slow-request-threshold', '1ns', '--slow-sql-threshold', '1ns'],
    });
    const c = createClient(server.address);
    try {
      await c.kv.Put({ key: b('slow/key'), value: b('secret-value') });
      await c.kv.Range({ key: b('slow/'), range_end: b('slow0'), revision: 2 });
      await waitFor(() => server.logs().includes('method=/etcdserverpb.KV/Range'), 5000, 'the Range warning');
      const logs = server.logs();
      expect(logs).toMatch(
        /WARN {2}\[rpc\] request took too long method=\/etcdserverpb\.KV\/Put key=slow\/key responseRevision=2 tookMs=\d+ expectedMs=/,
      );
      expect(logs).toMatch(
        /WARN {2}\[rpc\] request took too long method=\/etcdserverpb\.KV\/Range key=slow\/ rangeEnd=slow0 revision=2 responseRevision=2/,
      );
      expect(logs).toMatch(/WARN {2}\[sql\] slow SQL kind=write ms=\d+ failed=false/);
      expect(logs).not.toContain('secret-value');
    } finally {
      c.close();
      expect(await server.stop()).toBe(0);
      server.cleanup();
    }
  });
});
