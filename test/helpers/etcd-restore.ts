/** Real etcd's side of the snapshot tests: etcdctl that must succeed, a snapshot restored and served, HashKV as text. */
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import type { EtcdClient } from './client';
import { freePort } from './ports';
import { ETCDCTL_BIN, startEtcd, type Server } from './servers';

/** etcdctl (API 3) with these arguments; its stdout, or an error with its stderr. */
export function ctl(args: string[]): string {
  const r = spawnSync(ETCDCTL_BIN, args, { env: { ...process.env, ETCDCTL_API: '3' }, encoding: 'utf8', timeout: 60_000 });
  if (r.status !== 0) throw new Error(`etcdctl ${args.join(' ')} failed: ${r.stderr}`);
  return r.stdout;
}

/** Restores a snapshot into a data dir under `dir` and starts real etcd on it. */
export async function restoreAndStart(file: string, dir: string): Promise<Server> {
  const dataDir = path.join(dir, `restored-${path.basename(file)}`);
  const [cport, pport] = [await freePort(), await freePort()];
  const peer = `http://127.0.0.1:${pport}`;
  ctl([
    'snapshot',
    'restore',
    file,
    '--data-dir',
    dataDir,
    '--name',
    'default',
    '--initial-cluster',
    `default=${peer}`,
    '--initial-advertise-peer-urls',
    peer,
  ]);
  return startEtcd({ dataDir, ports: [cport, pport] });
}

/** HashKV at `rev` as one comparable line. */
export const hashAt = async (c: EtcdClient, rev: number): Promise<string> => {
  const r = await c.maintenance.HashKV({ revision: rev });
  return `${rev}: ${r.hash} compact ${r.compact_revision}`;
};
