/** Flag value parsers shared by the config files: positive integers and Go-style durations. */
import { ConfigError } from './config-error';

export function parsePositiveInt(s: string, flag: string): number {
  const n = Number(s);
  if (!Number.isSafeInteger(n) || n <= 0) throw new ConfigError(`invalid --${flag} "${s}": expected a positive integer`);
  return n;
}

const UNITS: Record<string, number> = { ns: 1e-6, us: 1e-3, µs: 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** Go-style durations ("5s", "1m30s", "250ms"); a bare number means seconds. Returns milliseconds. */
export function parseDuration(s: string, flag: string): number {
  const bad = () => new ConfigError(`invalid --${flag} "${s}": expected a duration such as 5s or 500ms`);
  if (/^\d+(\.\d+)?$/.test(s)) return Number(s) * 1000;
  const re = /(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/y;
  let total = 0;
  let pos = 0;
  while (pos < s.length) {
    re.lastIndex = pos;
    const m = re.exec(s);
    if (!m) throw bad();
    total += Number(m[1]) * UNITS[m[2]];
    pos = re.lastIndex;
  }
  if (pos === 0 || total <= 0) throw bad();
  return total;
}
