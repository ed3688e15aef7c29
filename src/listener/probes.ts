/**
 * GET /livez and /readyz as etcd 3.5.11+ and 3.6 answer them: a list of named checks, `ok\n` (200)
 * when all pass, `[-]name failed: why` lines (503) when one fails; `?verbose` lists every check on
 * success too, `?exclude=name` (repeatable) skips one, and /livez/<name> or /readyz/<name> runs one.
 *
 * strata's checks, by etcd's names: serializable_read reads the in-memory index (it cannot fail
 * while the process answers), linearizable_read is the database round trip /health makes,
 * non_learner always passes (strata has no learners) and data_corruption fails while a CORRUPT
 * alarm is active. etcd runs checks in Go map order; strata runs them in etcd's registration order.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import { sendText } from '../rpc/gateway/reply';

export interface ProbeOptions {
  /** One cheap read from the database; rejects when it is unreachable. */
  probe(): Promise<unknown>;
  timeoutMs: number;
  log: Logger;
  /** Whether a CORRUPT alarm is active; absent: never. */
  corrupt?: () => boolean;
}

type Check = (o: ProbeOptions) => Promise<void>;

const pass: Check = () => Promise.resolve();

const linearizableRead: Check = async (o) => {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    // etcd's error when a read misses its deadline.
    timer = setTimeout(() => reject(new Error('etcdserver: request timed out')), o.timeoutMs);
  });
  try {
    await Promise.race([o.probe(), timeout]);
  } finally {
    clearTimeout(timer);
  }
};

const dataCorruption: Check = (o) => (o.corrupt?.() ? Promise.reject(new Error('alarm activated: CORRUPT')) : Promise.resolve());

const CHECKS: Record<'livez' | 'readyz', ReadonlyArray<[string, Check]>> = {
  livez: [['serializable_read', pass]],
  readyz: [
    ['data_corruption', dataCorruption],
    ['serializable_read', pass],
    ['linearizable_read', linearizableRead],
    ['non_learner', pass],
  ],
};

/** True when `path` is one of the probe paths (and the reply has been started). */
export function serveProbe(o: ProbeOptions, req: IncomingMessage, res: ServerResponse, url: URL): boolean {
  const m = /^\/(livez|readyz)(?:\/([^/]+))?$/.exec(url.pathname);
  if (!m) return false;
  const kind = m[1] as 'livez' | 'readyz';
  const all = CHECKS[kind];
  let run: ReadonlyArray<[string, Check]>;
  if (m[2] !== undefined) {
    const one = all.find(([name]) => name === m[2]);
    if (!one) return false;
    run = [one];
  } else {
    const excluded = new Set(url.searchParams.getAll('exclude').filter((e) => e !== ''));
    run = all.filter(([name]) => !excluded.delete(name));
    // etcd accepts unknown names so that older and newer members take the same probe.
    if (excluded.size > 0) o.log.warn({ missing: [...excluded] }, 'some health checks cannot be excluded');
  }
  if (req.method !== 'GET') {
    sendText(res, 405, 'Method Not Allowed', { Allow: 'GET' });
    return true;
  }
  void runChecks(o, run).then(({ ok, report }) => {
    if (!ok) {
      // etcd logs each failure at error level; a probe every few seconds during a database outage
      // would repeat the outage's own log line, so strata keeps it at debug.
      o.log.debug({ path: url.pathname, reason: report }, 'health check error');
      return sendText(res, 503, report);
    }
    sendText(res, 200, `${url.searchParams.has('verbose') ? report : ''}ok`);
  });
  return true;
}

async function runChecks(o: ProbeOptions, checks: ReadonlyArray<[string, Check]>): Promise<{ ok: boolean; report: string }> {
  let ok = true;
  let report = '';
  for (const [name, check] of checks) {
    try {
      await check(o);
      report += `[+]${name} ok\n`;
    } catch (e) {
      ok = false;
      report += `[-]${name} failed: ${(e as Error).message}\n`;
    }
  }
  return { ok, report };
}
