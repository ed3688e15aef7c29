/** etcd's txn compares: one compare against one key's version at the txn's starting revision. */
import type { LogRow } from '../log/types';
import { CompareResult, CompareTarget, type Compare } from './types';

const EMPTY = Buffer.alloc(0);

/** Whether `v` (undefined: the key does not exist) satisfies the compare. */
export function compareVersion(c: Compare, v: LogRow | undefined): boolean {
  const o = c.operand;
  let result: number;
  switch (c.target as CompareTarget) {
    case CompareTarget.VALUE:
      result = Buffer.compare(v?.value ?? EMPTY, o.kind === 'value' ? o.value : EMPTY);
      break;
    case CompareTarget.CREATE:
      result = Math.sign((v?.createRevision ?? 0) - (o.kind === 'create_revision' ? o.value : 0));
      break;
    case CompareTarget.MOD:
      result = Math.sign((v?.revision ?? 0) - (o.kind === 'mod_revision' ? o.value : 0));
      break;
    case CompareTarget.VERSION:
      result = Math.sign((v?.version ?? 0) - (o.kind === 'version' ? o.value : 0));
      break;
    case CompareTarget.LEASE: {
      const a = v?.lease ?? 0n;
      const b = o.kind === 'lease' ? o.value : 0n;
      result = a < b ? -1 : a > b ? 1 : 0;
      break;
    }
    default:
      result = 0;
  }
  switch (c.result as CompareResult) {
    case CompareResult.EQUAL:
      return result === 0;
    case CompareResult.NOT_EQUAL:
      return result !== 0;
    case CompareResult.GREATER:
      return result > 0;
    case CompareResult.LESS:
      return result < 0;
    default:
      return true;
  }
}
