/**
 * --log-format text: pino's JSON lines rewritten as one plain line each, for a terminal:
 * `2026-12-01T13:00:00.000Z WARN  [sql] database unreachable reason="connect ECONNREFUSED"`.
 * No worker thread or transport: the formatting runs in the write call.
 */
const LEVELS: Record<number, string> = { 10: 'TRACE', 20: 'DEBUG', 30: 'INFO', 40: 'WARN', 50: 'ERROR', 60: 'FATAL' };
const SKIP = new Set(['level', 'time', 'msg', 'pid', 'hostname', 'app', 'component']);

function value(v: unknown): string {
  if (typeof v === 'string') return /^[^\s"=]+$/.test(v) ? v : JSON.stringify(v);
  if (v && typeof v === 'object') {
    const err = v as { type?: string; message?: string };
    // An error object: its message, not its stack (the JSON format keeps the stack).
    if (typeof err.message === 'string' && typeof err.type === 'string') return JSON.stringify(`${err.type}: ${err.message}`);
    return JSON.stringify(v);
  }
  return String(v);
}

export function formatLine(json: string): string {
  let rec: Record<string, unknown>;
  try {
    rec = JSON.parse(json) as Record<string, unknown>;
  } catch {
    return json.endsWith('\n') ? json : `${json}\n`;
  }
  const time = typeof rec.time === 'number' ? new Date(rec.time).toISOString() : '';
  const level = (LEVELS[rec.level as number] ?? String(rec.level)).padEnd(5);
  const component = typeof rec.component === 'string' ? ` [${rec.component}]` : '';
  const fields = Object.entries(rec)
    .filter(([k]) => !SKIP.has(k))
    .map(([k, v]) => ` ${k}=${value(v)}`)
    .join('');
  return `${time} ${level}${component} ${String(rec.msg ?? '')}${fields}\n`;
}

/** A pino destination that writes each record as one plain line to `out`. */
export function textDestination(out: { write(s: string): unknown }): { write(s: string): void } {
  return { write: (s: string) => void out.write(formatLine(s)) };
}
