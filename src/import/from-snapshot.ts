/**
 * An etcd backend file as an import source: a `snapshot save` file (checked against its trailing
 * SHA-256, as `snapshot restore` does) or a data dir's member/snap/db (no digest).
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import type { ImportSource } from '../log/importer';
import { EtcdBackendReader } from '../snapshot';

const DIGEST = 32;

/** bbolt files are whole pages (multiples of 512 bytes); a snapshot file has 32 bytes more. */
async function checkDigest(file: string): Promise<void> {
  const { size } = await stat(file);
  if (size % 512 !== DIGEST) return;
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file, { start: 0, end: size - DIGEST - 1, highWaterMark: 1 << 20 }))
    hash.update(chunk as Buffer);
  const want = Buffer.alloc(DIGEST);
  const fh = await open(file, 'r');
  try {
    await fh.read(want, 0, DIGEST, size - DIGEST);
  } finally {
    await fh.close();
  }
  if (!hash.digest().equals(want)) throw new Error(`${file}: the snapshot's SHA-256 does not match its contents (corrupt or cut short)`);
}

export async function snapshotSource(file: string): Promise<ImportSource & { close(): Promise<void> }> {
  await checkDigest(file);
  const reader = await EtcdBackendReader.open(file);
  return {
    description: file,
    revision: reader.revision,
    compactRevision: reader.compactRevision,
    rows: () => reader.rows(),
    async *leases() {
      for await (const l of reader.leases()) yield { id: l.id, ttl: l.ttl };
    },
    close: () => reader.close(),
  };
}
