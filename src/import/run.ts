/** One import: the source opened, its rows written into the store's log, the source closed. */
import type { Logger } from 'pino';
import type { Dialect } from '../dialect/dialect';
import { importLog, type ImportResult, type ImportSource } from '../log/importer';
import { etcdSource } from './from-etcd';
import { snapshotSource } from './from-snapshot';
import { kineSource } from './from-kine';

export type ImportFrom =
  { kind: 'snapshot'; file: string } | { kind: 'etcd'; url: string; token?: string } | { kind: 'kine'; endpoint: string };

export interface RunOptions {
  force: boolean;
  say(line: string): void;
  log: Logger;
}

async function openSource(from: ImportFrom, say: (line: string) => void, log: Logger): Promise<ImportSource & { close(): Promise<void> }> {
  switch (from.kind) {
    case 'snapshot':
      return snapshotSource(from.file);
    case 'etcd':
      say(`reading a snapshot of ${from.url}`);
      return etcdSource(from.url, {
        token: from.token,
        progress: (bytes) => say(`received ${Math.round(bytes / 2 ** 20)} MiB of the snapshot`),
      });
    case 'kine':
      return kineSource(from.endpoint, log);
  }
}

export async function runImport(dialect: Dialect, from: ImportFrom, opts: RunOptions): Promise<ImportResult> {
  const source = await openSource(from, opts.say, opts.log);
  try {
    opts.say(`importing ${source.description}: revision ${source.revision}, compact revision ${source.compactRevision}`);
    return await importLog(dialect, source, {
      force: opts.force,
      progress: (p) => opts.say(`imported ${p.rows} rows, at revision ${p.revision} of ${p.of}`),
    });
  } finally {
    await source.close();
  }
}
