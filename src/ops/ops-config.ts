/** The operations flags (compaction, quota, logging, start-up wait): raw strings and their parsed form. */
import { parseAutoCompaction, type AutoCompaction, type RawCompactionOptions } from './compaction-config';

export type { AutoCompaction } from './compaction-config';

export type RawOpsOptions = RawCompactionOptions;

export interface OpsOptions {
  autoCompaction: AutoCompaction;
}

type DurationParser = (s: string, flag: string) => number;

export function parseOpsOptions(raw: RawOpsOptions, parseDuration: DurationParser): OpsOptions {
  return {
    autoCompaction: parseAutoCompaction(raw, parseDuration),
  };
}
