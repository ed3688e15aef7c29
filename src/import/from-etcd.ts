/**
 * A live etcd as an import source: its Maintenance.Snapshot — one consistent read at one revision
 * that also holds every revision since the compaction, the exact sub-revisions and the leases —
 * saved to a scratch file, then read as a snapshot file. (A range at the current revision plus a
 * watch from the compact revision would lose the sub-revisions of the rows at or below it.)
 */
import { createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { finished } from 'node:stream/promises';
import * as grpc from '@grpc/grpc-js';
import type { ImportSource } from '../log/importer';
import { loadPackage } from '../rpc/proto';
import { snapshotSource } from './from-snapshot';

interface EtcdSourceOptions {
  /** etcd's auth token header, when the source has auth on (Snapshot needs the root role). */
  token?: string;
  progress(bytes: number): void;
}

function hostOf(url: string): string {
  const u = /^(?:https?:\/\/)?([^/]+)\/?$/.exec(url.trim());
  if (!u) throw new Error(`--from-etcd "${url}": expected http://host:port`);
  if (url.startsWith('https://'))
    throw new Error(`--from-etcd "${url}": TLS to the source etcd is not supported yet; use its plain client URL`);
  return u[1];
}

async function download(url: string, file: string, opts: EtcdSourceOptions): Promise<void> {
  const services = grpc.loadPackageDefinition(loadPackage()) as unknown as {
    etcdserverpb: { Maintenance: new (addr: string, creds: grpc.ChannelCredentials, o?: object) => grpc.Client };
  };
  const client = new services.etcdserverpb.Maintenance(hostOf(url), grpc.credentials.createInsecure(), {
    'grpc.max_receive_message_length': -1,
  });
  const metadata = new grpc.Metadata();
  if (opts.token) metadata.set('token', opts.token);
  const out = createWriteStream(file);
  let bytes = 0;
  let reported = Date.now();
  try {
    const call = (client as unknown as { Snapshot(req: object, md: grpc.Metadata): grpc.ClientReadableStream<{ blob: Buffer }> }).Snapshot(
      {},
      metadata,
    );
    for await (const m of call as AsyncIterable<{ blob: Buffer }>) {
      bytes += m.blob.length;
      if (!out.write(m.blob)) await new Promise<void>((r) => out.once('drain', () => r()));
      if (Date.now() - reported >= 3000) {
        reported = Date.now();
        opts.progress(bytes);
      }
    }
    out.end();
    await finished(out);
  } catch (e) {
    out.destroy();
    throw new Error(`snapshot from ${url}: ${(e as Error).message}`, { cause: e });
  } finally {
    client.close();
  }
}

export async function etcdSource(url: string, opts: EtcdSourceOptions): Promise<ImportSource & { close(): Promise<void> }> {
  const scratch = await mkdtemp(path.join(tmpdir(), 'strata-import-'));
  try {
    const file = path.join(scratch, 'etcd.snapshot');
    await download(url, file, opts);
    const src = await snapshotSource(file);
    return {
      ...src,
      description: `${url} (snapshot at revision ${src.revision})`,
      close: async () => {
        await src.close();
        await rm(scratch, { recursive: true, force: true });
      },
    };
  } catch (e) {
    await rm(scratch, { recursive: true, force: true });
    throw e;
  }
}
