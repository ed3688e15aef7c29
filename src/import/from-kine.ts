/**
 * A kine database (k3s's datastore) as an import source, read and never changed. kine's id is the
 * revision, kept as is; `created` starts a key's life (create_revision 0 then means the row's own
 * id), `deleted` is a tombstone, `prev_revision` is the key's previous row, and `lease` is a TTL in
 * seconds (kine hands out a lease whose id is its TTL). kine keeps no versions: they are counted
 * from the rows the table still holds (1 at a create). Its own rows are not keys: the
 * `compact_rev_key` row (whose prev_revision is the compact revision), the `gap-N` rows that fill
 * holes in its ids, and `compact_rev_key_apiserver` (the apiserver's compaction key, which it
 * writes again itself).
 */
import type { Logger } from 'pino';
import { parseConfig } from '../config';
import { createDialect } from '../dialect';
import type { Dialect, KineRow, LogRow } from '../dialect/dialect';
import type { ImportLease, ImportSource } from '../log/importer';
import { etcdRetainedRows } from '../snapshot';

const PAGE = 2000;
const COMPACT_KEY = 'compact_rev_key';
const APISERVER_COMPACT_KEY = 'compact_rev_key_apiserver';
const EMPTY = Buffer.alloc(0);

async function* kineRows(d: Dialect): AsyncGenerator<KineRow> {
  for (let after = 0; ;) {
    const page = await d.loadKineRows(after, PAGE);
    yield* page;
    if (page.length < PAGE) return;
    after = page[page.length - 1].id;
  }
}

const isKineOwn = (r: KineRow): boolean => {
  const name = r.name.toString('latin1');
  return name === COMPACT_KEY || name === APISERVER_COMPACT_KEY || (name.startsWith('gap-') && r.deleted && !r.created);
};

/** kine's rows as log rows, in id order. */
async function* converted(d: Dialect): AsyncGenerator<LogRow> {
  const live = new Map<string, { version: number; createRevision: number }>();
  for await (const r of kineRows(d)) {
    if (isKineOwn(r)) continue;
    const k = r.name.toString('latin1');
    if (r.deleted) {
      live.delete(k);
      yield {
        revision: r.id,
        sub: 0,
        key: r.name,
        createRevision: 0,
        prevRevision: r.prevRevision,
        version: 0,
        lease: 0n,
        value: EMPTY,
        deleted: true,
      };
      continue;
    }
    const prev = live.get(k);
    const fresh = r.created || !prev;
    const version = fresh ? 1 : prev.version + 1;
    const createRevision = r.created || r.createRevision === 0 ? (fresh ? r.id : prev.createRevision) : r.createRevision;
    live.set(k, { version, createRevision });
    yield {
      revision: r.id,
      sub: 0,
      key: r.name,
      createRevision,
      prevRevision: r.prevRevision,
      version,
      lease: BigInt(r.lease),
      value: r.value,
      deleted: false,
    };
  }
}

export async function kineSource(endpoint: string, log: Logger): Promise<ImportSource & { close(): Promise<void> }> {
  const config = parseConfig({ endpoint });
  const d = createDialect(config.endpoint, config.datastore, log);
  try {
    await d.open({ announce: [], schema: false });
    if (!(await d.hasKineTable())) throw new Error(`${endpoint} holds no kine table`);
    let revision = 1;
    let compactRevision = -1;
    for await (const r of kineRows(d)) {
      revision = Math.max(revision, r.id);
      if (r.name.toString('latin1') === COMPACT_KEY && r.prevRevision > 0) compactRevision = Math.max(compactRevision, r.prevRevision);
    }
    // Rows kine's compactor has not reached yet are dropped as etcd's compaction would.
    const rows = () => etcdRetainedRows(() => converted(d), revision, compactRevision);
    return {
      description: `kine table at ${endpoint}`,
      revision,
      compactRevision,
      rows,
      async *leases(): AsyncGenerator<ImportLease> {
        const last = new Map<string, LogRow>();
        for await (const r of rows()) last.set(r.key.toString('latin1'), r);
        const ttls = new Set<number>();
        for (const r of last.values()) if (!r.deleted && r.lease > 0n) ttls.add(Number(r.lease));
        for (const ttl of [...ttls].sort((a, b) => a - b)) yield { id: BigInt(ttl), ttl };
      },
      close: () => d.close(),
    };
  } catch (e) {
    await d.close().catch(() => undefined);
    throw e;
  }
}
