/** Picks the dialect for an endpoint; each dialect and its driver are loaded only when used. */
import type { Logger } from 'pino';
import type { DatastoreOptions, Endpoint } from '../config';
import type { Dialect } from './dialect';
import { loadModule } from './load-module';

export function createDialect(endpoint: Endpoint, opts: DatastoreOptions, log: Logger): Dialect {
  switch (endpoint.kind) {
    case 'sqlite': {
      const { SqliteDialect } = loadModule<typeof import('./sqlite/dialect')>('./sqlite/dialect');
      return new SqliteDialect(endpoint, log);
    }
    case 'postgres': {
      const { PostgresDialect } = loadModule<typeof import('./postgres/dialect')>('./postgres/dialect');
      return new PostgresDialect(endpoint, opts, log);
    }
    case 'mysql': {
      const { MysqlDialect } = loadModule<typeof import('./mysql/dialect')>('./mysql/dialect');
      return new MysqlDialect(endpoint, opts, log);
    }
  }
}
