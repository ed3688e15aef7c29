/**
 * etcd's "request took too long" warning: every unary request slower than the threshold is logged
 * once with its method, key range, requested revision, the revision it answered and its duration.
 * Values are never logged; keys are cut to a printable prefix.
 */
import type { Logger } from 'pino';
import type { UnaryMethod, UnaryTable } from './calls';

const KEY_CHARS = 128;

/** The fields of a decoded request worth a log line (those it has). */
interface RequestShape {
  key?: unknown;
  range_end?: unknown;
  revision?: unknown;
}

function printable(b: unknown): string | undefined {
  if (!Buffer.isBuffer(b)) return undefined;
  if (b.length === 0) return '';
  const s = b.subarray(0, KEY_CHARS).toString('utf8');
  return b.length > KEY_CHARS ? `${s}…` : s;
}

function describe(req: unknown): Record<string, unknown> {
  if (!req || typeof req !== 'object') return {};
  const r = req as RequestShape;
  const out: Record<string, unknown> = {};
  const key = printable(r.key);
  if (key !== undefined) out.key = key;
  const end = printable(r.range_end);
  if (end) out.rangeEnd = end;
  // Decoded messages carry int64 fields as strings.
  const rev = Number(r.revision ?? 0);
  if (Number.isFinite(rev) && rev !== 0) out.revision = rev;
  return out;
}

function answeredAt(result: unknown): number | undefined {
  const rev = (result as { header?: { revision?: unknown } } | null | undefined)?.header?.revision;
  return typeof rev === 'number' ? rev : undefined;
}

export function slowLogged(service: string, table: UnaryTable, thresholdMs: number, log: Logger): UnaryTable {
  if (thresholdMs <= 0) return table;
  const out: UnaryTable = {};
  for (const [name, m] of Object.entries(table)) {
    const method = `/etcdserverpb.${service}/${name}`;
    /** Logs the request when it took too long; `failed` is the error's message if it failed. */
    const check = (started: number, req: unknown, result: unknown, failed: string | undefined): void => {
      const ms = performance.now() - started;
      if (ms <= thresholdMs) return;
      log.warn(
        { method, ...describe(req), responseRevision: answeredAt(result), error: failed, tookMs: Math.round(ms), expectedMs: thresholdMs },
        'request took too long',
      );
    };
    const wrapped: UnaryMethod<unknown, unknown, object> = {
      ...m,
      // Not an async function: its state machine is the largest allocation strata makes per request.
      run: (req, size, who, signal, deadline) => {
        const started = performance.now();
        let out: Promise<unknown>;
        try {
          out = m.run(req, size, who, signal, deadline);
        } catch (e) {
          out = Promise.reject(e);
        }
        return out.then(
          (result) => {
            check(started, req, result, undefined);
            return result;
          },
          (e: unknown) => {
            check(started, req, undefined, (e as Error)?.message);
            throw e;
          },
        );
      },
      encode: (r) => m.encode(r),
    };
    out[name] = wrapped;
  }
  return out;
}
