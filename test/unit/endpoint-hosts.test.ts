import { describe, expect, it } from 'vitest';
import { describeEndpoint, parseEndpoint, redact } from '../../src/endpoint';
import { batchByteCap, ENGINE_RULES } from '../../src/dialect/rules';

describe('endpoints with several hosts', () => {
  it("reads libpq's host list, each host with its own port or the default", () => {
    const e = parseEndpoint('postgres://u:pw@h1:5432,h2,[::1]:5434/db?target_session_attrs=read-write');
    expect(e).toMatchObject({
      kind: 'postgres',
      host: 'h1',
      port: 5432,
      hosts: [
        { host: 'h1', port: 5432 },
        { host: 'h2', port: 5432 },
        { host: '::1', port: 5434 },
      ],
      targetSessionAttrs: 'read-write',
      database: 'db',
    });
    expect(parseEndpoint('postgres://u@/db?host=a,b&port=1,2')).toMatchObject({
      hosts: [
        { host: 'a', port: 1 },
        { host: 'b', port: 2 },
      ],
    });
    expect(parseEndpoint('postgres://u@a,b/db?target_session_attrs=primary')).toMatchObject({ targetSessionAttrs: 'primary' });
  });

  it('reads MySQL host lists in both forms', () => {
    const hosts = [
      { host: 'h1', port: 3306 },
      { host: 'h2', port: 3307 },
    ];
    expect(parseEndpoint('mysql://u:p@h1:3306,h2:3307/db')).toMatchObject({ kind: 'mysql', hosts, password: 'p', database: 'db' });
    expect(parseEndpoint('mysql://u:p@tcp(h1:3306,h2:3307)/db')).toMatchObject({ kind: 'mysql', hosts });
  });

  it('refuses host lists that cannot work, naming the fault and never the password', () => {
    const bad = (s: string, why: RegExp) => {
      expect(() => parseEndpoint(s)).toThrow(why);
      expect(() => parseEndpoint(s)).not.toThrow(/hunter2/);
    };
    bad('postgres://u:hunter2@h1,h1/db', /host h1:5432 is named twice/);
    bad('postgres://u:hunter2@h1,,h2/db', /empty host/);
    bad('postgres://u:hunter2@/db?host=a,b,c&port=1,2', /2 ports given for 3 hosts/);
    bad('postgres://u:hunter2@a,b/db?target_session_attrs=standby', /target_session_attrs must be any, read-write or primary/);
    bad('mysql://u:hunter2@h1:1,h2:99999/db', /port must be 1-65535/);
  });

  it('describes and redacts every host without credentials', () => {
    const s = 'mysql://u:hunter2@h1:3306,h2:3307/db';
    expect(redact(s)).toBe('mysql://u:***@h1:3306,h2:3307/db');
    expect(describeEndpoint(parseEndpoint(s))).toBe('mysql://u@h1:3306,h2:3307/db');
    expect(describeEndpoint(parseEndpoint('postgres://u@[::1]:5,h/db'))).toBe('postgres://u@[::1]:5,h:5432/db');
  });
});

describe('engine schemes', () => {
  it('map onto the two protocols with their own defaults', () => {
    expect(parseEndpoint('cockroachdb://c1,c2/db')).toMatchObject({
      kind: 'postgres',
      engine: 'cockroachdb',
      user: 'root',
      hosts: [
        { host: 'c1', port: 26257 },
        { host: 'c2', port: 26257 },
      ],
    });
    expect(parseEndpoint('yugabytedb://y/db')).toMatchObject({ kind: 'postgres', engine: 'yugabytedb', port: 5433, user: 'yugabyte' });
    expect(parseEndpoint('tidb://t/db')).toMatchObject({ kind: 'mysql', engine: 'tidb', port: 4000, user: 'root' });
    expect(parseEndpoint('galera://g1:3307,g2:3308/db')).toMatchObject({ kind: 'mysql', engine: 'galera' });
    expect(parseEndpoint('postgres://h/db')).toMatchObject({ engine: 'postgres' });
    expect(() => parseEndpoint('toString://h/db')).toThrow(/unknown scheme "tostring"/);
  });

  it("carry their engine's rules", () => {
    expect(ENGINE_RULES.cockroachdb).toMatchObject({ notifications: false, locking: 'cluster-wide', advisoryLocks: 'none' });
    expect(ENGINE_RULES.cockroachdb.retryCodes).toContain('40001');
    expect(ENGINE_RULES.yugabytedb).toMatchObject({ notifications: false });
    expect(ENGINE_RULES.tidb.retryCodes).toEqual(expect.arrayContaining(['9007', '8022']));
    expect(ENGINE_RULES.galera).toMatchObject({ locking: 'node-local-certification', causalReads: ['SET SESSION wsrep_sync_wait = 1'] });
    expect(ENGINE_RULES.galera.retryCodes).toEqual(expect.arrayContaining(['1213', '1047']));
    // A duplicate revision is a lost race only where the fence's lock is node-local.
    expect([ENGINE_RULES.galera.retryCodes.includes('1062'), ENGINE_RULES.mysql.retryCodes.includes('1062')]).toEqual([true, false]);
    expect(ENGINE_RULES.postgres).toMatchObject({ notifications: true, advisoryLocks: 'server' });
    expect(batchByteCap(ENGINE_RULES.cockroachdb)).toBe(16 << 20);
    expect(batchByteCap(ENGINE_RULES.tidb)).toBe(25_000_000);
    expect(batchByteCap(ENGINE_RULES.postgres)).toBe(Infinity);
  });
});
