/**
 * The dialect as the log uses it: every call timed for metrics, calls slower than the slow-SQL
 * threshold logged, and failures that mean the database is unreachable handed to the outage
 * tracker (one line when an outage starts, one when it ends). The wrapper is built once; a
 * write transaction's calls are timed through one small object per transaction.
 */
import type { Logger } from 'pino';
import type { Dialect, FencedWrite, Shortcut, WriteTx } from '../dialect/dialect';
import type { Outage } from './outage';
import type { LogObserver } from './types';

interface ObserveOptions {
  observer?: LogObserver;
  /** Log SQL calls slower than this (0: never). */
  slowSqlMs: number;
  log: Logger;
  outage: Outage;
}

const DIRECT = [
  'readMeta',
  'getMeta',
  'deleteMeta',
  'initMeta',
  'loadRows',
  'compactWindow',
  'revisionAfterRows',
  'dbSize',
  'quotaBytes',
  'defragment',
  'ping',
  'rowsAfter',
  'loadLeases',
  'loadAuth',
  'hasKineTable',
] as const;
const IN_TX = [
  'lockMeta',
  'insertRows',
  'clearLog',
  'upsertLeases',
  'deleteLeases',
  'writeAuth',
  'setMeta',
  'rowsAfter',
  'loadLeases',
  'loadAuth',
] as const;

/** metric label of a call: snake_case of the method name. */
const kindOf = (name: string): string => name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);

export function observeDialect(inner: Dialect, o: ObserveOptions): Dialect {
  const timed = async <T>(kind: string, run: () => Promise<T>): Promise<T> => {
    const started = performance.now();
    let failed = true;
    try {
      const out = await run();
      failed = false;
      return out;
    } catch (e) {
      if (o.outage.isOutage(e)) o.outage.failed(e);
      throw e;
    } finally {
      const ms = performance.now() - started;
      o.observer?.sql(kind, ms / 1000, failed);
      if (!failed) o.outage.succeeded();
      if (o.slowSqlMs > 0 && ms > o.slowSqlMs) o.log.warn({ kind, ms: Math.round(ms), failed }, 'slow SQL');
    }
  };
  const wrapped = Object.create(inner) as Dialect;
  const slots = wrapped as unknown as Record<string, unknown>;
  for (const name of DIRECT) {
    const fn = (inner[name] as (...a: unknown[]) => Promise<unknown>).bind(inner);
    const kind = kindOf(name);
    slots[name] = (...args: unknown[]) => timed(kind, () => fn(...args));
  }
  // Everything else runs on the dialect itself (its fields live there); readConsistent too: a
  // backup's read is long by nature, not slow SQL.
  for (const name of ['open', 'close', 'listen', 'isTransient', 'isDiskFull', 'isUnreachable'] as const) {
    slots[name] = (inner[name] as (...a: unknown[]) => unknown).bind(inner);
  }
  if (inner.poolStats) wrapped.poolStats = inner.poolStats.bind(inner);
  if (inner.hostHealth) wrapped.hostHealth = inner.hostHealth.bind(inner);
  const { claimWriter, releaseWriter } = inner;
  if (claimWriter) wrapped.claimWriter = (...a) => timed('claim_writer', () => claimWriter.apply(inner, a));
  if (releaseWriter) wrapped.releaseWriter = (owner) => timed('release_writer', () => releaseWriter.call(inner, owner));
  if (inner.commitFenced) {
    wrapped.commitFenced = (changes: FencedWrite) =>
      timed('commit_fenced', () => (inner.commitFenced as (c: FencedWrite) => Promise<boolean>).call(inner, changes));
  }
  wrapped.write = <T>(fn: (tx: WriteTx) => Promise<T>, shortcut?: Shortcut<T>): Promise<T> =>
    timed('write', () => inner.write((tx) => fn(observeTx(tx, timed)), shortcut));
  return wrapped;
}

type Timed = <T>(kind: string, run: () => Promise<T>) => Promise<T>;

function observeTx(tx: WriteTx, timed: Timed): WriteTx {
  const out = Object.create(tx) as WriteTx;
  const slots = out as unknown as Record<string, unknown>;
  for (const name of IN_TX) {
    const fn = (tx[name] as (...a: unknown[]) => Promise<unknown>).bind(tx);
    const kind = `tx_${kindOf(name)}`;
    slots[name] = (...args: unknown[]) => timed(kind, () => fn(...args));
  }
  return out;
}
