/**
 * Galera refuses a transaction whose write set is larger than the node's wsrep_max_ws_size, a
 * setting an operator can lower at any time (SET GLOBAL, on one node). The batch cap is learned at
 * open; a refusal means it is stale: the dialect learns the live value again, and the batch is
 * retried under the new cap (split into smaller write sets), as a lost certification is.
 */
import type { PoolConnection } from 'mysql2/promise';
import { ENGINE_RULES } from '../rules';
import { SQL } from './statements';

const TOO_LARGE = /Maximum writeset size exceeded/i;

export function isWriteSetTooLarge(e: unknown): boolean {
  return TOO_LARGE.test(String((e as { message?: unknown } | null | undefined)?.message ?? ''));
}

/** The node's live wsrep_max_ws_size, within the rules' ceiling. */
export async function liveWriteSetCap(c: Pick<PoolConnection, 'query'>): Promise<number> {
  const [rows] = await c.query(SQL.maxWriteSet);
  const [ws] = rows as Array<{ bytes: unknown }>;
  return Math.min(Number(ws.bytes), ENGINE_RULES.galera.maxTxnBytes ?? Infinity);
}
