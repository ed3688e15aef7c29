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
    const wrapped: UnaryMethod<unknown, unknown, object> = {
      ...m,
      run: async (req, size, who, signal, deadline) => {
        const started = performance.now();
        let result: unknown;
        let failed: string | undefined;
        try {
          result = await m.run(req, size, who, signal, deadline);
          return result;
        } catch (e) {
          failed = (e as Error)?.message;
          throw e;
        } finally {
          const ms = performance.now() - started;
          if (ms > thresholdMs) {
            log.warn(
              {
                method,
                ...describe(req),
                responseRevision: answeredAt(result),
                error: failed,
                tookMs: Math.round(ms),
                expectedMs: thresholdMs,
              },
              'request took too long',
            );
          }
        }
      },
      encode: (r) => m.encode(r),
    };
    out[name] = wrapped;
  }
  return out;
}
