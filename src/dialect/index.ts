/** Picks the dialect for an endpoint; each driver module is loaded only when used. */
import type { Endpoint } from '../config';
import type { Dialect } from './dialect';

export function createDialect(endpoint: Endpoint): Dialect {
  switch (endpoint.kind) {
    case 'sqlite': {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const { SqliteDialect } = require('./sqlite/sqlite') as typeof import('./sqlite/sqlite');
      return new SqliteDialect(endpoint);
    }
  }
}
