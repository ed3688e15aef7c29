/** How a multi-row write is cut into statements, each small enough for the database to take. */
import type { LogRow } from './dialect';

/**
 * Consecutive runs of at most `maxRows` rows whose keys and values add up to less than
 * `maxBytes`; a row larger than that on its own goes alone.
 */
export function insertChunks(rows: LogRow[], maxRows: number, maxBytes = Infinity): LogRow[][] {
  const out: LogRow[][] = [];
  for (let i = 0; i < rows.length;) {
    let bytes = 0;
    let j = i;
    while (j < rows.length && j - i < maxRows) {
      const size = rows[j].key.length + rows[j].value.length;
      if (j > i && bytes + size >= maxBytes) break;
      bytes += size;
      j++;
    }
    out.push(i === 0 && j === rows.length ? rows : rows.slice(i, j));
    i = j;
  }
  return out;
}

/**
 * Runs of power-of-two length, at most `max` each: statements prepared per row count then come in
 * a handful of shapes.
 */
export function powerOfTwoChunks<T>(items: T[], max: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length;) {
    let size = max;
    while (size > items.length - i) size >>= 1;
    out.push(items.slice(i, i + size));
    i += size;
  }
  return out;
}
