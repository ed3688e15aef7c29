// The same etcdctl (3.4) command sequence against a real etcd (the reference) and against strata
// (the peer); every step's exit code, stdout and stderr are compared after normalising only what
// legitimately differs: lease ids (placeholders in order of appearance), timings, cluster/member ids
// and raft figures, db size, the server version (shape-checked: strata must say >= 3.5), endpoint
// addresses and member URLs.
//
// STRATA_TEST_AGAINST=etcd runs the peer side against a second real etcd: the suite must pass etcd-vs-etcd.
import { appendFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { b } from '../helpers/client';
import { ETCDCTL_BIN, ETCD_BIN, haveTool } from '../helpers/servers';
import {
  Side,
  normalise,
  normaliseMemberRow,
  normaliseRemaining,
  normaliseStatusRow,
  sortAttachedKeys,
  sidesPerSuite,
  sortLinesAfterFirst,
  tableCells,
  watchCapture,
  type CtlResult,
} from './etcdctl-harness';

interface Step {
  name: string;
  /** etcdctl arguments (after --endpoints). */
  args?: string[] | ((s: Side) => string[]);
  /** stdin (txn). */
  input?: string | ((s: Side) => string);
  /** Instead of one etcdctl run. */
  run?: (s: Side) => CtlResult | Promise<CtlResult>;
  /** Runs first on each side, not compared (captures marks). */
  before?: (s: Side) => void | Promise<void>;
  /** Step-specific normalisation and shape checks, after the generic one. */
  post?: (r: CtlResult, s: Side) => CtlResult;
  /** The reference's expected exit code (guards the sequence itself); default 0, null = killed. */
  code?: number | null;
}

const UNKNOWN_LEASE = '1234abcd';
const txn = (lines: string[]): string => `${lines.join('\n')}\n`;
const markRev =
  (name: string, delta = 0) =>
  async (s: Side) => {
    s.marks.set(name, (await s.rev()) + delta);
  };
const mapStdout =
  (f: (t: string, s: Side) => string) =>
  (r: CtlResult, s: Side): CtlResult => ({ ...r, stdout: f(r.stdout, s) });

/** Keys bin/<byte> for every byte, plus one key made of all 256 bytes, with non-UTF-8 values. */
const ALL_BYTES = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
async function putBinaryKeys(s: Side): Promise<CtlResult> {
  const revs: string[] = [];
  for (let i = 0; i < 256; i++) {
    const key = Buffer.concat([b('bin/'), Buffer.from([i])]);
    const value = Buffer.from([0xff - i, 0x80, i, 0x00, 0xc3]); // never valid UTF-8 (0x80 / lone 0xc3)
    const r = await s.client.kv.Put({ key, value });
    revs.push(String(r.header.revision));
  }
  const r = await s.client.kv.Put({ key: ALL_BYTES, value: Buffer.from([0xfe, 0xff, 0x00, 0xed, 0xa0, 0x80]) });
  revs.push(String(r.header.revision));
  return { code: 0, stdout: `${revs.join('\n')}\n`, stderr: '' };
}

const steps: Step[] = [
  // ---- put / get ------------------------------------------------------------------------------
  { name: 'get on an empty store', args: ['get', 'a'] },
  { name: 'get -w json on an empty store (revision 1)', args: ['get', 'a', '-w', 'json'] },
  { name: 'put', args: ['put', 's/c', 'v3'] },
  { name: 'put s/a', args: ['put', 's/a', 'v1'], before: markRev('s/a@1', 1) },
  { name: 'put s/d', args: ['put', 's/d', 'v0'] },
  { name: 'put s/b', args: ['put', 's/b', 'v2'] },
  { name: 'put s/a again', args: ['put', 's/a', 'v5'] },
  { name: 'put s/a a third time', args: ['put', 's/a', 'v6'] },
  { name: 'put s/c again', args: ['put', 's/c', 'v7'] },
  { name: 'put s/e', args: ['put', 's/e', 'v4'] },
  { name: 'put v/x (1)', args: ['put', 'v/x', 'x1'] },
  { name: 'put v/y (1)', args: ['put', 'v/y', 'y1'] },
  { name: 'put v/z (1)', args: ['put', 'v/z', 'z1'] },
  { name: 'put v/x (2)', args: ['put', 'v/x', 'x2'] },
  { name: 'put v/x (3)', args: ['put', 'v/x', 'x3'] },
  { name: 'put v/z (2)', args: ['put', 'v/z', 'z2'] },
  { name: 'get a key', args: ['get', 's/a'] },
  { name: 'get a missing key', args: ['get', 's/zzz'] },
  { name: 'get -w json', args: ['get', 's/a', '-w', 'json'] },
  { name: 'get -w fields', args: ['get', 's/a', '-w', 'fields'] },
  { name: 'get --prefix', args: ['get', '--prefix', 's/'] },
  { name: 'get --prefix -w json', args: ['get', '--prefix', 's/', '-w', 'json'] },
  { name: 'get key range_end', args: ['get', 's/a', 's/c'] },
  { name: 'get --from-key', args: ['get', '--from-key', 's/c'] },
  { name: 'get --sort-by=MODIFY --order=DESCEND', args: ['get', '--prefix', 's/', '--sort-by=MODIFY', '--order=DESCEND'] },
  { name: 'get --sort-by=MODIFY --order=ASCEND', args: ['get', '--prefix', 's/', '--sort-by=MODIFY', '--order=ASCEND'] },
  { name: 'get --sort-by=CREATE', args: ['get', '--prefix', 's/', '--sort-by=CREATE', '--keys-only'] },
  { name: 'get --sort-by=CREATE --order=DESCEND', args: ['get', '--prefix', 's/', '--sort-by=CREATE', '--order=DESCEND', '--keys-only'] },
  { name: 'get --sort-by=VALUE', args: ['get', '--prefix', 's/', '--sort-by=VALUE'] },
  { name: 'get --sort-by=VALUE --order=DESCEND', args: ['get', '--prefix', 's/', '--sort-by=VALUE', '--order=DESCEND'] },
  { name: 'get --sort-by=VERSION', args: ['get', '--prefix', 'v/', '--sort-by=VERSION', '-w', 'json'] },
  { name: 'get --sort-by=VERSION --order=DESCEND', args: ['get', '--prefix', 'v/', '--sort-by=VERSION', '--order=DESCEND'] },
  { name: 'get --sort-by=KEY --order=DESCEND', args: ['get', '--prefix', 's/', '--sort-by=KEY', '--order=DESCEND'] },
  { name: 'get --order=DESCEND (by key)', args: ['get', '--prefix', 's/', '--order=DESCEND', '--keys-only'] },
  { name: 'get --limit', args: ['get', '--prefix', 's/', '--limit', '2'] },
  { name: 'get --limit -w json (more, count)', args: ['get', '--prefix', 's/', '--limit', '2', '-w', 'json'] },
  {
    name: 'get --limit --sort-by=MODIFY --order=DESCEND',
    args: ['get', '--prefix', 's/', '--limit', '2', '--sort-by=MODIFY', '--order=DESCEND'],
  },
  { name: 'get --rev (history)', args: (s) => ['get', 's/a', '--rev', String(s.mark('s/a@1'))] },
  { name: 'get --prefix --rev -w json', args: (s) => ['get', '--prefix', 's/', '--rev', String(s.mark('s/a@1')), '-w', 'json'] },
  { name: 'get --keys-only', args: ['get', '--prefix', 's/', '--keys-only'] },
  { name: 'get --keys-only -w json', args: ['get', '--prefix', 'v/', '--keys-only', '-w', 'json'] },
  { name: 'get --print-value-only', args: ['get', '--prefix', 's/', '--print-value-only'] },
  { name: 'get --hex', args: ['get', '--prefix', 's/', '--hex'] },
  { name: 'get --consistency=s', args: ['get', '--prefix', 'v/', '--consistency=s'] },
  { name: 'get --prefix "" (whole keyspace)', args: ['get', '--prefix', '', '--keys-only'] },
  { name: 'put --prev-kv', args: ['put', 's/b', 'v8', '--prev-kv'] },
  { name: 'put --prev-kv on a new key', args: ['put', 'p/new', 'n', '--prev-kv'] },
  { name: 'put --ignore-value', args: ['put', 's/b', '--ignore-value'] },
  { name: 'put --ignore-value --prev-kv', args: ['put', 's/b', '--ignore-value', '--prev-kv'] },
  { name: 'get after --ignore-value -w json', args: ['get', 's/b', '-w', 'json'] },
  { name: 'put --ignore-value on a missing key (error)', args: ['put', 'p/missing', '--ignore-value'], code: 1 },
  { name: 'put with an empty key (error)', args: ['put', '', 'v'], code: 1 },

  // ---- del --------------------------------------------------------------------------------------
  { name: 'put d/1', args: ['put', 'd/1', 'one'] },
  { name: 'put d/2', args: ['put', 'd/2', 'two'] },
  { name: 'put d/3', args: ['put', 'd/3', 'three'] },
  { name: 'put d/4', args: ['put', 'd/4', 'four'] },
  { name: 'put zz/a', args: ['put', 'zz/a', 'za'] },
  { name: 'put zz/b', args: ['put', 'zz/b', 'zb'] },
  { name: 'put zz/c', args: ['put', 'zz/c', 'zc'] },
  { name: 'del one key', args: ['del', 'd/1'] },
  { name: 'del a missing key', args: ['del', 'd/nope'] },
  { name: 'del --prev-kv', args: ['del', 'd/2', '--prev-kv'] },
  { name: 'del --prefix --prev-kv', args: ['del', '--prefix', 'd/', '--prev-kv'] },
  { name: 'del --prefix (nothing left)', args: ['del', '--prefix', 'd/'] },
  { name: 'del --from-key', args: ['del', '--from-key', 'zz/b'] },
  { name: 'get after del --from-key', args: ['get', '--prefix', 'zz/'] },
  { name: 'del -w json', args: ['del', 'zz/a', '--prev-kv', '-w', 'json'] },

  // ---- txn (non-interactive, stdin) -------------------------------------------------------------
  {
    name: 'txn success branch (mod >, val =, ver =, create <)',
    input: txn([
      'mod("s/a") > "0"',
      'val("s/c") = "v7"',
      'ver("s/c") = "2"',
      'create("s/d") < "100"',
      '',
      'put t/1 one',
      'get s/a',
      'del s/e',
      '',
      'put t/fail x',
      '',
    ]),
    args: ['txn'],
  },
  {
    name: 'txn failure branch (val !=)',
    input: txn(['val("s/c") != "v7"', '', 'put t/2 two', '', 'get s/c', 'get --prefix s/ --keys-only', 'put t/3 three', '']),
    args: ['txn'],
  },
  {
    name: 'txn compare on a missing key (version = 0, create = 0)',
    input: txn(['ver("t/none") = "0"', 'create("t/none") = "0"', '', 'put t/4 four', '', '']),
    args: ['txn'],
  },
  {
    name: 'txn mod = exact revision',
    input: (s) => txn([`create("s/a") = "${s.mark('s/a@1')}"`, `mod("s/a") != "${s.mark('s/a@1')}"`, '', 'get s/a', '', '']),
    args: ['txn'],
  },
  {
    name: 'txn value < and > (byte order)',
    input: txn(['val("s/a") < "v9"', 'val("s/a") > "v0"', 'ver("v/x") > "2"', '', 'put t/5 five', '', 'put t/6 six', '']),
    args: ['txn'],
  },
  {
    name: 'txn mod < fails',
    input: txn(['mod("s/a") < "2"', '', 'put t/7 seven', '', 'get t/1', 'del t/3 --prev-kv', '']),
    args: ['txn'],
  },
  {
    name: 'txn -w json',
    input: txn(['ver("t/1") = "1"', '', 'get --prefix t/ --keys-only', 'put t/8 eight --prev-kv', 'del t/5 --prev-kv', '', '']),
    args: ['txn', '-w', 'json'],
  },
  { name: 'txn with no compares and no ops', input: '\n\n\n', args: ['txn'] },
  { name: 'txn with a duplicate key (error)', input: txn(['', 'put t/d 1', 'put t/d 2', '', '']), args: ['txn'], code: 1 },
  { name: 'get t/ after the txns', args: ['get', '--prefix', 't/'] },

  // ---- leases -----------------------------------------------------------------------------------
  { name: 'lease grant', args: ['lease', 'grant', '60'] },
  { name: 'lease grant -w json', args: ['lease', 'grant', '60', '-w', 'json'] },
  { name: 'lease grant 100', args: ['lease', 'grant', '100'] },
  { name: 'lease grant a too large TTL (error)', args: ['lease', 'grant', '9000000001'], code: 1 },
  { name: 'put --lease', args: (s) => ['put', 'lk/1', 'x', '--lease', s.lease(2)] },
  { name: 'put --lease (second key)', args: (s) => ['put', 'lk/2', 'y', '--lease', s.lease(2)] },
  { name: 'put --lease on the first lease', args: (s) => ['put', 'lk/3', 'z', '--lease', s.lease(0)] },
  { name: 'put --ignore-lease keeps the lease', args: ['put', 'lk/3', 'z2', '--ignore-lease'] },
  { name: 'get leased keys -w json', args: ['get', '--prefix', 'lk/', '-w', 'json'] },
  { name: 'get leased key -w fields', args: ['get', 'lk/3', '-w', 'fields'] },
  {
    name: 'lease timetolive --keys',
    args: (s) => ['lease', 'timetolive', s.lease(2), '--keys'],
    post: mapStdout((t, s) => sortAttachedKeys(normaliseRemaining(t, s.label))),
  },
  { name: 'lease timetolive', args: (s) => ['lease', 'timetolive', s.lease(0)], post: mapStdout((t, s) => normaliseRemaining(t, s.label)) },
  {
    name: 'lease timetolive --keys -w json',
    args: (s) => ['lease', 'timetolive', s.lease(0), '--keys', '-w', 'json'],
    post: mapStdout((t) =>
      t.replace(
        /"ttl":(\d+),"granted-ttl":60/,
        (_m, r: string) => `"ttl":"${Number(r) > 0 && Number(r) <= 60 ? 'ok' : r}","granted-ttl":60`,
      ),
    ),
  },
  { name: 'lease list', args: ['lease', 'list'], post: mapStdout(sortLinesAfterFirst) },
  { name: 'lease keep-alive --once', args: (s) => ['lease', 'keep-alive', '--once', s.lease(0)] },
  { name: 'lease revoke', args: (s) => ['lease', 'revoke', s.lease(1)] },
  { name: 'lease revoke again (not found)', args: (s) => ['lease', 'revoke', s.lease(1)], code: 1 },
  { name: 'lease timetolive of a revoked lease', args: (s) => ['lease', 'timetolive', s.lease(1)] },
  { name: 'lease keep-alive --once of a revoked lease', args: (s) => ['lease', 'keep-alive', '--once', s.lease(1)], code: 2 },
  { name: 'lease revoke of an unknown id', args: ['lease', 'revoke', UNKNOWN_LEASE], code: 1 },
  { name: 'lease timetolive of an unknown id', args: ['lease', 'timetolive', UNKNOWN_LEASE] },
  { name: 'lease timetolive of an unknown id -w json', args: ['lease', 'timetolive', UNKNOWN_LEASE, '-w', 'json'] },
  { name: 'lease keep-alive --once of an unknown id', args: ['lease', 'keep-alive', '--once', UNKNOWN_LEASE], code: 2 },
  { name: 'put with an unknown lease (error)', args: ['put', 'lk/9', 'v', '--lease', UNKNOWN_LEASE], code: 1 },
  { name: 'lease revoke deletes the attached keys', args: (s) => ['lease', 'revoke', s.lease(2)] },
  { name: 'get after the revoke', args: ['get', '--prefix', 'lk/'] },
  { name: 'lease list after the revokes', args: ['lease', 'list'], post: mapStdout(sortLinesAfterFirst) },
  { name: 'lease grant 1 (etcd raises it to the minimum TTL)', args: ['lease', 'grant', '1'] },

  // ---- watch ------------------------------------------------------------------------------------
  { name: 'put /w/a (watch history starts)', args: ['put', '/w/a', '1'], before: markRev('w0', 1) },
  { name: 'put /w/b', args: ['put', '/w/b', '2'] },
  { name: 'put /x outside the prefix', args: ['put', '/x', 'out'] },
  { name: 'put /w/a again', args: ['put', '/w/a', '3'] },
  { name: 'del /w/a', args: ['del', '/w/a'] },
  { name: 'txn writing two /w keys', input: txn(['', 'put /w/c 5', 'put /w/d 6', 'del /w/b', '', '']), args: ['txn'] },
  { name: 'put /w/zz (sentinel)', args: ['put', '/w/zz', 'end'] },
  {
    name: 'watch --prefix --rev N (replay)',
    run: (s) => watchCapture(s, ['--prefix', '/w', '--rev', String(s.mark('w0'))], { until: '/w/zz\nend\n' }),
    code: null,
  },
  {
    name: 'watch --prefix --rev N --prev-kv (replay)',
    run: (s) => watchCapture(s, ['--prefix', '/w', '--rev', String(s.mark('w0')), '--prev-kv'], { until: '/w/zz\nend\n' }),
    code: null,
  },
  {
    name: 'watch key range_end --rev N (replay)',
    run: (s) => watchCapture(s, ['/w/a', '/w/c', '--rev', String(s.mark('w0'))], { until: 'DELETE\n/w/b\n' }),
    code: null,
  },
  {
    name: 'watch --prefix --prev-kv (live)',
    before: markRev('w1', 1),
    run: (s) =>
      watchCapture(s, ['--prefix', '/w', '--prev-kv', '--rev', String(s.mark('w1'))], {
        until: '/w/zz\nend2\n',
        during: (side) => {
          for (const args of [
            ['put', '/w/a', '10'],
            ['put', '/w/c', '50', '--prev-kv'],
            ['del', '--prefix', '/w/d'],
            ['put', '/x', 'out2'],
            ['put', '/w/zz', 'end2'],
          ]) {
            const r = side.ctl(args);
            if (r.code !== 0) throw new Error(`${side.label}: etcdctl ${args.join(' ')} failed: ${r.stderr}`);
          }
          const r = side.ctl(['txn'], txn(['', 'put /w/e 7', 'del /w/a', '', '']));
          if (r.code !== 0) throw new Error(`${side.label}: txn failed: ${r.stderr}`);
        },
      }),
    code: null,
  },

  // ---- compaction -------------------------------------------------------------------------------
  { name: 'get --rev before compaction', args: (s) => ['get', '--prefix', '/w', '--rev', String(s.mark('w0'))], before: markRev('c0') },
  { name: 'compaction', args: (s) => ['compaction', String(s.mark('c0'))] },
  { name: 'compaction again (compacted)', args: (s) => ['compaction', String(s.mark('c0'))], code: 1 },
  { name: 'compaction below the compacted revision', args: (s) => ['compaction', String(s.mark('c0') - 1)], code: 1 },
  { name: 'compaction in the future', args: (s) => ['compaction', String(s.mark('c0') + 1000)], code: 1 },
  { name: 'get --rev below the compaction (compacted)', args: (s) => ['get', '--prefix', '/w', '--rev', String(s.mark('w0'))], code: 1 },
  { name: 'get --rev at the compaction', args: (s) => ['get', '--prefix', '/w', '--rev', String(s.mark('c0'))] },
  { name: 'get --rev in the future', args: (s) => ['get', 's/a', '--rev', String(s.mark('c0') + 1000)], code: 1 },
  { name: 'get --rev in the future -w json', args: (s) => ['get', 's/a', '--rev', String(s.mark('c0') + 1000), '-w', 'json'], code: 1 },
  {
    name: 'watch --rev below the compaction (canceled)',
    run: (s) => watchCapture(s, ['--prefix', '/w', '--rev', '2'], { until: '\u0000never', timeoutMs: 5_000 }),
    code: 5,
  },
  { name: 'put after the compaction', args: ['put', 'c/1', 'after'] },
  { name: 'compaction --physical', args: (s) => ['compaction', String(s.mark('c0') + 1), '--physical'] },

  // ---- binary keys and values (written over gRPC) ---------------------------------------------
  { name: 'put 257 binary keys over gRPC (revisions)', run: putBinaryKeys },
  { name: 'get binary keys --hex', args: ['get', '--prefix', 'bin/', '--hex'] },
  { name: 'get binary keys -w json', args: ['get', '--prefix', 'bin/', '-w', 'json'] },
  {
    name: 'get binary keys --sort-by=KEY --order=DESCEND --limit',
    args: ['get', '--prefix', 'bin/', '--sort-by=KEY', '--order=DESCEND', '--limit', '5', '--hex'],
  },
  // etcd quirk (3.4–3.6 rangeLimit): with a non-KEY sort target and no --order (sort_order NONE), the
  // limit is applied in key order first (limit+1 fetched), then those are sorted ascending.
  {
    name: 'get --sort-by=VALUE --limit without --order (limit before sort)',
    args: ['get', '--prefix', 'bin/', '--sort-by=VALUE', '--limit', '4', '--hex'],
  },
  {
    name: 'get --sort-by=VALUE --order=ASCEND --limit (sort before limit)',
    args: ['get', '--prefix', 'bin/', '--sort-by=VALUE', '--order=ASCEND', '--limit', '4', '--hex'],
  },
  {
    name: 'get --sort-by=MODIFY --limit without --order (limit before sort)',
    args: ['get', '--prefix', 's/', '--sort-by=MODIFY', '--limit', '2', '-w', 'json'],
  },
  { name: 'get a binary range', args: ['get', 'bin/A', 'bin/a', '--hex', '-w', 'json'] },
  { name: 'get --from-key "" (0x00… key first) --hex', args: ['get', '--from-key', '', '--limit', '3', '--hex'] },
  { name: 'get the whole keyspace -w json', args: ['get', '--prefix', '', '-w', 'json'] },
  { name: 'del binary keys', args: ['del', '--prefix', 'bin/'] },

  // ---- cluster and maintenance ------------------------------------------------------------------
  {
    name: 'endpoint status',
    args: ['endpoint', 'status'],
    post: mapStdout((t, s) => {
      const lines = t.split('\n').filter((l) => l !== '');
      if (lines.length !== 1) throw new Error(`${s.label}: endpoint status printed ${lines.length} lines: ${t}`);
      return `${normaliseStatusRow(
        lines[0].split(', ').map((c) => c.trim()),
        s,
      ).join(', ')}\n`;
    }),
  },
  {
    name: 'endpoint status -w table',
    args: ['endpoint', 'status', '-w', 'table'],
    post: mapStdout((t, s) => {
      const rows = t.split('\n').filter((l) => l.startsWith('|'));
      if (rows.length !== 2) throw new Error(`${s.label}: endpoint status table has ${rows.length} rows: ${t}`);
      return `${tableCells(rows[0]).join(' | ')}\n${normaliseStatusRow(tableCells(rows[1]), s).join(' | ')}\n`;
    }),
  },
  { name: 'endpoint health', args: ['endpoint', 'health'] },
  { name: 'endpoint health -w json', args: ['endpoint', 'health', '-w', 'json'] },
  {
    name: 'member list',
    args: ['member', 'list'],
    post: mapStdout((t, s) => {
      const lines = t.split('\n').filter((l) => l !== '');
      if (lines.length !== 1) throw new Error(`${s.label}: member list printed ${lines.length} lines: ${t}`);
      // id, status, name, peer urls, client urls, learner — URLs are comma+space separated too
      const parts = lines[0].split(', ');
      const cells = [parts[0], parts[1], parts[2], parts.slice(3, -2).join(','), parts[parts.length - 2], parts[parts.length - 1]];
      return `${normaliseMemberRow(cells, s).join(', ')}\n`;
    }),
  },
  {
    name: 'member list -w table',
    args: ['member', 'list', '-w', 'table'],
    post: mapStdout((t, s) => {
      const rows = t.split('\n').filter((l) => l.startsWith('|'));
      if (rows.length !== 2) throw new Error(`${s.label}: member list table has ${rows.length} rows: ${t}`);
      return `${tableCells(rows[0]).join(' | ')}\n${normaliseMemberRow(tableCells(rows[1]), s).join(' | ')}\n`;
    }),
  },
  { name: 'alarm list', args: ['alarm', 'list'] },
  { name: 'final keyspace', args: ['get', '--prefix', '', '-w', 'json'] },
];

const haveTools = haveTool(ETCDCTL_BIN, 'etcdctl') && haveTool(ETCD_BIN, 'etcd');

describe.skipIf(!haveTools)('etcdctl: reference etcd vs peer', () => {
  const sides = sidesPerSuite();

  const resolve = <T>(v: T | ((s: Side) => T), s: Side): T => (typeof v === 'function' ? (v as (s: Side) => T)(s) : v);

  async function runStep(st: Step, side: Side): Promise<CtlResult> {
    if (st.before) await st.before(side);
    let raw: CtlResult;
    if (st.run) raw = await st.run(side);
    else {
      if (!st.args) throw new Error(`step ${st.name} has neither args nor run`);
      raw = side.ctl(resolve(st.args, side), st.input === undefined ? undefined : resolve(st.input, side));
    }
    const n = normalise(raw, side);
    return st.post ? st.post(n, side) : n;
  }

  for (const st of steps) {
    test(st.name, async () => {
      const { ref, peer } = sides;
      const want = await runStep(st, ref);
      expect(want.code, `the reference etcd's exit code (the sequence itself is off); stderr:\n${want.stderr}`).toBe(
        st.code === undefined ? 0 : st.code,
      );
      const got = await runStep(st, peer);
      if (process.env.E2E_TRANSCRIPT) {
        // A readable record of both sides (normalised), e.g. E2E_TRANSCRIPT=/tmp/etcdctl.txt
        const show = (r: CtlResult) => `[exit ${String(r.code)}]\n--- stdout\n${r.stdout}--- stderr\n${r.stderr}`;
        const args = st.args ? resolve(st.args, ref).join(' ') : '(see step)';
        appendFileSync(
          process.env.E2E_TRANSCRIPT,
          `=== ${st.name}: etcdctl ${args}\n${show(want)}${JSON.stringify(got) === JSON.stringify(want) ? '' : `### peer differs:\n${show(got)}`}\n`,
        );
      }
      expect(got).toEqual(want);
    });
  }
});
