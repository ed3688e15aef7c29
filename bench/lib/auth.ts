/**
 * The --auth variant: every target gets etcd's auth enabled before it is measured, and the load
 * generator logs in as a user whose one role grants READWRITE on the benchmark's prefix — the set-up
 * APISIX and kube-apiserver deployments with a user have. Set up with etcdctl, as an operator would.
 */
import { run } from './proc';
import type { BenchTls } from './tls';

export const ETCDCTL_BIN = process.env.ETCDCTL_BIN ?? '/usr/bin/etcdctl';

/** The load generator's credentials under --auth. */
export const BENCH_USER = { user: 'bench', password: 'bench-password' };

/** The workloads the variant measures unless --only says otherwise. */
export const AUTH_WORKLOADS = ['put-64', 'get-lin-64'];

/** With `tls`, etcdctl connects as the load generator does (the CN "client" is no user: the token decides). */
export function enableAuth(address: string, tls?: BenchTls): void {
  const conn = tls
    ? ['--endpoints', `https://${address}`, '--cacert', tls.ca, '--cert', tls.clientCert, '--key', tls.clientKey]
    : ['--endpoints', address];
  const steps: string[][] = [
    ['user', 'add', 'root:root-password'],
    ['user', 'grant-role', 'root', 'root'],
    ['user', 'add', `${BENCH_USER.user}:${BENCH_USER.password}`],
    ['role', 'add', 'bench'],
    ['role', 'grant-permission', '--prefix', 'bench', 'readwrite', 'bench/'],
    ['user', 'grant-role', BENCH_USER.user, 'bench'],
    ['auth', 'enable'],
  ];
  for (const args of steps) {
    const r = run(ETCDCTL_BIN, [...conn, ...args], { env: { ...process.env, ETCDCTL_API: '3' }, timeoutMs: 30_000 });
    if (r.code !== 0) throw new Error(`etcdctl ${args.join(' ')} failed: ${r.stderr}${r.stdout}`);
  }
}
