/**
 * Maintenance.Snapshot, the same for gRPC and the gateway: the admin check (with etcd's unmapped
 * auth errors), the store written as etcd's backend db at one revision, then the db in etcd's
 * 32 KiB chunks and its SHA-256 last, at the pace the client reads, the scratch file removed when
 * the stream ends however it ends.
 */
import type { Credentials } from '../mvcc/auth/types';
import { snapshotChunks } from '../snapshot';
import { header } from './codec/header';
import type { RpcContext } from './context';
import { adminUnmapped } from './maintenance';
import type * as pb from './messages';

type SnapshotMessages = AsyncGenerator<pb.SnapshotResponse>;

export function snapshotCall(ctx: RpcContext): (who: Credentials) => SnapshotMessages {
  return async function* snapshot(who) {
    await adminUnmapped(ctx, who);
    const started = Date.now();
    const file = await ctx.store.maintenance.snapshot({
      member: { id: ctx.store.identity.memberId, name: ctx.memberName, peerURLs: [], clientURLs: ctx.clientUrls },
      serverVersion: ctx.version,
      term: ctx.identity.raft_term,
    });
    ctx.log.info({ revision: file.revision, bytes: file.size, ms: Date.now() - started }, 'snapshot written; sending');
    try {
      let first = true;
      for await (const c of snapshotChunks(file.path)) {
        // The first header says which revision the snapshot holds.
        yield { ...(first ? { header: header(ctx.identity, file.revision) } : {}), remaining_bytes: c.remainingBytes, blob: c.blob };
        first = false;
      }
    } finally {
      await file.remove();
    }
  };
}

/**
 * Pumps a snapshot into a transport: `write` returns false when its buffer is full, then the next
 * message waits for `drained`; `gone` ends the pump early (client cancelled).
 */
export async function pumpSnapshot(
  messages: SnapshotMessages,
  out: { write(m: pb.SnapshotResponse): boolean; drained(): Promise<void>; gone(): boolean },
): Promise<void> {
  try {
    for await (const m of messages) {
      if (out.gone()) return;
      if (!out.write(m)) await out.drained();
    }
  } finally {
    await messages.return(undefined);
  }
}
