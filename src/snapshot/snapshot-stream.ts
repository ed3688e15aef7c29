/**
 * A snapshot on the wire and on disk is the db file followed by its SHA-256 (etcd's
 * Maintenance.Snapshot sends it last; `etcdctl snapshot save` keeps it; `snapshot restore` checks
 * it). The db is read sequentially in etcd's 32 KiB chunks and hashed on the way.
 */
import { createHash } from 'node:crypto';
import { open } from 'node:fs/promises';

/** etcd's snapshotSendBufferSize. */
export const SNAPSHOT_CHUNK_SIZE = 32 * 1024;

/** One SnapshotResponse: a piece of the db (or, last, the digest) and the db bytes still to come. */
export interface SnapshotChunk {
  blob: Buffer;
  remainingBytes: number;
}

/** The chunks of `dbPath` then its SHA-256, as etcd's Maintenance.Snapshot streams them. */
export async function* snapshotChunks(dbPath: string, chunkSize = SNAPSHOT_CHUNK_SIZE): AsyncGenerator<SnapshotChunk> {
  const file = await open(dbPath, 'r');
  try {
    const total = (await file.stat()).size;
    const hash = createHash('sha256');
    let sent = 0;
    while (sent < total) {
      const buf = Buffer.alloc(Math.min(chunkSize, total - sent));
      const { bytesRead } = await file.read(buf, 0, buf.length, sent);
      if (bytesRead === 0) throw new Error(`snapshot: ${dbPath} ended at ${sent} of ${total} bytes`);
      const blob = buf.subarray(0, bytesRead);
      sent += bytesRead;
      hash.update(blob);
      yield { blob, remainingBytes: total - sent };
    }
    yield { blob: hash.digest(), remainingBytes: 0 };
  } finally {
    await file.close();
  }
}

/** Turns a db file into a snapshot file in place, by appending its SHA-256. */
export async function appendDigest(dbPath: string): Promise<void> {
  let digest: Buffer | undefined;
  // The digest is the last chunk.
  for await (const c of snapshotChunks(dbPath, 1 << 20)) digest = c.blob;
  const file = await open(dbPath, 'a');
  try {
    await file.write(digest!);
    await file.sync();
  } finally {
    await file.close();
  }
}
