/**
 * GET /health as etcd 3.5 answers it: {"health":"true","reason":""}, or 503 with
 * {"health":"false","reason":…}: false while an alarm is raised, or when the database (what stands
 * in for raft) does not answer one cheap round trip within a timeout.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import { sendText } from '../rpc/gateway/reply';

export interface HealthOptions {
  /** One cheap read from the database; rejects when it is unreachable. */
  probe(): Promise<unknown>;
  /** The alarm types raised now: any one makes the member unhealthy (etcd 3.5). */
  alarms(): string[];
  timeoutMs: number;
  log: Logger;
}

interface Health {
  health: 'true' | 'false';
  reason: string;
}

/** etcd 3.5's reasons for an alarm; `exclude` (repeatable) ignores alarm types, as /health?exclude=NOSPACE does. */
function alarmHealth(o: HealthOptions, exclude: string[]): Health | undefined {
  for (const a of o.alarms()) {
    if (exclude.includes(a)) continue;
    o.log.warn({ alarm: a }, 'serving /health false due to an alarm');
    return { health: 'false', reason: a === 'NOSPACE' || a === 'CORRUPT' ? `ALARM ${a}` : 'ALARM UNKNOWN' };
  }
  return undefined;
}

async function checkHealth(o: HealthOptions, serializable: boolean, exclude: string[]): Promise<Health> {
  const alarm = alarmHealth(o, exclude);
  if (alarm) return alarm;
  // etcd's ?serializable=true answers from the local member without a consensus read; strata's
  // local state is its memory, so it skips the database round trip.
  if (serializable) return { health: 'true', reason: '' };
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${o.timeoutMs} ms`)), o.timeoutMs);
  });
  try {
    await Promise.race([o.probe(), timeout]);
    return { health: 'true', reason: '' };
  } catch (e) {
    // The log reports database outages once; a stack per probe would only repeat it.
    o.log.debug({ error: (e as Error).message }, 'health check failed');
    return { health: 'false', reason: `DATABASE UNREACHABLE: ${(e as Error).message}` };
  } finally {
    clearTimeout(timer);
  }
}

export function serveHealth(o: HealthOptions, req: IncomingMessage, res: ServerResponse, url: URL): void {
  if (req.method !== 'GET') return sendText(res, 405, 'Method Not Allowed', { Allow: 'GET' });
  void checkHealth(o, url.searchParams.get('serializable') === 'true', url.searchParams.getAll('exclude')).then((h) => {
    if (res.destroyed) return;
    const text = JSON.stringify(h);
    res.writeHead(h.health === 'true' ? 200 : 503, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
    res.end(text);
  });
}
