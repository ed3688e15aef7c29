/** A snapshot file as `etcdctl snapshot save` leaves it: the backend db, then its SHA-256. */
import { writeEtcdBackend, type EtcdBackendInput } from './backend-writer';
import { appendDigest } from './snapshot-stream';

export async function writeSnapshotFile(path: string, input: EtcdBackendInput): Promise<{ dbSize: number; size: number }> {
  const { size } = await writeEtcdBackend(path, input);
  await appendDigest(path);
  return { dbSize: size, size: size + 32 };
}
