/**
 * What etcd computes over its whole backend, from one consistent read of the log: a snapshot (the
 * db file as etcd's backend, written to a scratch file so it can be streamed at the client's pace
 * without holding it in memory or a database transaction open meanwhile), HashKV and Hash.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { Errors } from '../errors';
import type { LogView } from '../log/types';
import { hashKV, storeHash, writeEtcdBackend, type MemberRecord } from '../snapshot';

/** Who the snapshot says it was taken from: the backend records the member and the versions. */
export interface BackendIdentity {
  member: MemberRecord;
  /** The etcd version strata reports (the cluster version is derived from it). */
  serverVersion: string;
  term: number;
}

export interface SnapshotFile {
  path: string;
  /** The revision the snapshot holds the store at. */
  revision: number;
  /** The db's size in bytes (the digest follows it on the wire). */
  size: number;
  /** Removes the scratch file. */
  remove(): Promise<void>;
}

export interface HashKVResult {
  /** The store's revision when the hash was taken (the header's). */
  revision: number;
  hash: number;
  compactRevision: number;
}

export interface HashResult {
  revision: number;
  hash: number;
}

export async function writeSnapshot(view: LogView, id: BackendIdentity, dir = tmpdir()): Promise<SnapshotFile> {
  const scratch = await mkdtemp(path.join(dir, 'strata-snapshot-'));
  const remove = () => rm(scratch, { recursive: true, force: true });
  try {
    const file = path.join(scratch, 'db');
    const { size } = await writeEtcdBackend(file, {
      revision: view.revision,
      compactRevision: view.compactRevision,
      rows: () => view.rows(),
      leases: view.leases,
      member: id.member,
      serverVersion: id.serverVersion,
      term: id.term,
    });
    return { path: file, revision: view.revision, size, remove };
  } catch (e) {
    await remove();
    throw e;
  }
}

/** etcd's HashByRev: 0 is the current revision; at or below the compaction, or in the future, etcd's errors. */
export async function hashKVAt(view: LogView, revision: number): Promise<HashKVResult> {
  if (revision > 0 && revision <= view.compactRevision) throw Errors.compacted();
  if (revision > view.revision) throw Errors.futureRev();
  const at = revision === 0 ? view.revision : revision;
  return {
    revision: view.revision,
    hash: await hashKV(() => view.rows(), at, view.compactRevision),
    compactRevision: view.compactRevision,
  };
}

export async function hashOf(view: LogView): Promise<HashResult> {
  return { revision: view.revision, hash: await storeHash(() => view.rows(), view.revision, view.compactRevision, view.leases) };
}
