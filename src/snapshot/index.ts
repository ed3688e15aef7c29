/**
 * etcd's snapshot format both ways, and HashKV: what the server wires into Maintenance.Snapshot,
 * Maintenance.HashKV and an import command. Everything here reads rows through a RowSource (a
 * consistent read of the log up to a revision, which may be iterated more than once).
 */
export { writeEtcdBackend, type EtcdBackendInput } from './backend-writer';
export { EtcdBackendReader } from './backend-reader';
export type { MemberRecord } from './backend-layout';
export { hashKV } from './hash-kv';
export type { LeaseRecord } from './key-value';
export { etcdRetainedRows, type RowSource } from './retention';
export { writeSnapshotFile } from './snapshot-file';
export { SNAPSHOT_CHUNK_SIZE, appendDigest, snapshotChunks, type SnapshotChunk } from './snapshot-stream';
export { snapshotStatus, type SnapshotStatus } from './status';
export { storeHash } from './store-hash';
