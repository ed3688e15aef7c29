/**
 * The statements strata runs on one MySQL connection: a write transaction's (the fence, rows,
 * leases, meta, auth) and the reads shared by the pool and a transaction.
 */
import type { PoolConnection, RowDataPacket } from 'mysql2/promise';
import { authName, encodeRole, encodeUser, toAuthRows, type RawAuthRowOfKind } from '../auth-rows';
import { insertChunks, powerOfTwoChunks } from '../chunks';
import type { AuthChanges, AuthRows, LeaseRow, LogRow, WriteTx } from '../dialect';
import { toLeaseRow, toLockedMeta, toLogRow, type RawLeaseRow, type RawLockedMetaRow, type RawLogColumns } from '../rows';
import { SQL, SQL_FOR_COUNT } from './statements';

export type Queryable = Pick<PoolConnection, 'execute' | 'query'>;
/** Rows as mysql2 types them. */
export type Rows<T> = Array<T & RowDataPacket>;
/** Log rows asked for as arrays of columns (`rowsAsArray`). */
export type LogColumns = Array<RawLogColumns & RowDataPacket[]>;

/** Rows or names per statement, at most. */
export const MAX_CHUNK = 256;

export function writeTxOn(c: PoolConnection, insertBytes: number): WriteTx {
  return {
    lockMeta: async (names) => toLockedMeta((await c.execute<Rows<RawLockedMetaRow>>(SQL_FOR_COUNT.lockMeta(names.length), [...names]))[0]),
    rowsAfter: (after, upTo) => rowsAfterOn(c, after, upTo),
    loadLeases: () => loadLeasesOn(c),
    insertRows: (rows) => insertRowsOn(c, rows, insertBytes),
    clearLog: async () => {
      await c.query(SQL.clearRows);
      await c.query(SQL.clearLeases);
    },
    upsertLeases: async (leases) => {
      for (const chunk of powerOfTwoChunks(leases, MAX_CHUNK)) {
        await c.execute(
          SQL_FOR_COUNT.upsertLeases(chunk.length),
          chunk.flatMap((l) => [l.id.toString(), l.ttl, l.expiresAt]),
        );
      }
    },
    deleteLeases: async (ids) => {
      for (const chunk of powerOfTwoChunks(ids, MAX_CHUNK)) {
        await c.execute(
          SQL_FOR_COUNT.deleteLeases(chunk.length),
          chunk.map((id) => id.toString()),
        );
      }
    },
    setMeta: (entries) => setMetaOn(c, entries),
    loadAuth: () => loadAuthOn(c),
    writeAuth: (changes) => writeAuthOn(c, changes),
  };
}

/** Chunks bounded by bytes too: one statement must fit in max_allowed_packet. */
async function insertRowsOn(c: Queryable, rows: LogRow[], insertBytes: number): Promise<void> {
  for (const byBytes of insertChunks(rows, Infinity, insertBytes)) {
    for (const chunk of powerOfTwoChunks(byBytes, MAX_CHUNK)) {
      const params: Array<string | number | Buffer> = [];
      for (const r of chunk) {
        params.push(r.revision, r.sub, r.key, r.createRevision, r.prevRevision, r.version, r.lease.toString(), r.value, r.deleted ? 1 : 0);
      }
      await c.execute(SQL_FOR_COUNT.insertRows(chunk.length), params);
    }
  }
}

export async function rowsAfterOn(c: Queryable, after: number, upTo: number): Promise<LogRow[]> {
  const [rows] = await c.execute<LogColumns>({ sql: SQL.rowsAfter, rowsAsArray: true }, [after, upTo]);
  return rows.map(toLogRow);
}

export async function loadLeasesOn(c: Queryable): Promise<LeaseRow[]> {
  const [rows] = await c.execute<Rows<RawLeaseRow>>(SQL.loadLeases);
  return rows.map(toLeaseRow);
}

export async function loadAuthOn(c: Queryable): Promise<AuthRows> {
  const [rows] = await c.execute<Rows<RawAuthRowOfKind>>(SQL.loadAuth);
  return toAuthRows(rows);
}

async function writeAuthOn(c: Queryable, changes: AuthChanges): Promise<void> {
  const upsert = async (table: 'auth_user' | 'auth_role', rows: Array<[Buffer, Buffer]>) => {
    for (const chunk of powerOfTwoChunks(rows, MAX_CHUNK)) await c.execute(SQL_FOR_COUNT.upsertAuth(table, chunk.length), chunk.flat());
  };
  const remove = async (table: 'auth_user' | 'auth_role', names: string[]) => {
    for (const chunk of powerOfTwoChunks(names, MAX_CHUNK))
      await c.execute(SQL_FOR_COUNT.deleteAuth(table, chunk.length), chunk.map(authName));
  };
  await upsert(
    'auth_user',
    changes.users.map((u) => [authName(u.name), encodeUser(u)]),
  );
  await remove('auth_user', changes.deletedUsers);
  await upsert(
    'auth_role',
    changes.roles.map((r) => [authName(r.name), encodeRole(r)]),
  );
  await remove('auth_role', changes.deletedRoles);
}

export async function setMetaOn(c: Queryable, entries: Record<string, string>): Promise<void> {
  for (const chunk of powerOfTwoChunks(Object.entries(entries), MAX_CHUNK))
    await c.execute(SQL_FOR_COUNT.setMeta(chunk.length), chunk.flat());
}
