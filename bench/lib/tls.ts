/**
 * The --tls variant: every target serves its client URL over mTLS, as kubeadm's etcd does
 * (--cert-file, --key-file, --trusted-ca-file, --client-cert-auth), and the load generator connects
 * with a client certificate (-cacert/-cert/-key, kube-apiserver's --etcd-cafile/certfile/keyfile).
 * The certificates are made by openssl in a temp dir, ECDSA P-256.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { run } from './proc';

export interface BenchTls {
  dir: string;
  ca: string;
  serverCert: string;
  serverKey: string;
  clientCert: string;
  clientKey: string;
}

/** The server flags, the same for etcd and strata. */
export function serverTlsFlags(t: BenchTls): string[] {
  return ['--cert-file', t.serverCert, '--key-file', t.serverKey, '--trusted-ca-file', t.ca, '--client-cert-auth'];
}

/** The load generator's flags. */
export function clientTlsArgs(t: BenchTls): { cacert: string; cert: string; key: string } {
  return { cacert: t.ca, cert: t.clientCert, key: t.clientKey };
}

export function makeBenchTls(): BenchTls {
  const dir = mkdtempSync(path.join(tmpdir(), 'strata-bench-tls-'));
  const ssl = (args: string[]) => {
    const r = run('openssl', args, { cwd: dir, timeoutMs: 30_000 });
    if (r.code !== 0) throw new Error(`openssl ${args.join(' ')}: ${r.stderr}`);
  };
  const key = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  writeFileSync(
    path.join(dir, 'ext.cnf'),
    '[s]\nsubjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n[c]\nextendedKeyUsage=clientAuth\n',
  );
  ssl(['req', '-x509', ...key, '-keyout', 'ca.key', '-out', 'ca.pem', '-subj', '/CN=bench-ca', '-days', '2']);
  for (const [name, ext, serial] of [
    ['server', 's', '1'],
    ['client', 'c', '2'],
  ]) {
    ssl(['req', ...key, '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${name}`]);
    ssl([
      'x509',
      '-req',
      '-in',
      `${name}.csr`,
      '-CA',
      'ca.pem',
      '-CAkey',
      'ca.key',
      '-set_serial',
      serial,
      '-days',
      '2',
      '-out',
      `${name}.pem`,
      '-extfile',
      'ext.cnf',
      '-extensions',
      ext,
    ]);
  }
  const p = (f: string) => path.join(dir, f);
  return {
    dir,
    ca: p('ca.pem'),
    serverCert: p('server.pem'),
    serverKey: p('server.key'),
    clientCert: p('client.pem'),
    clientKey: p('client.key'),
  };
}

export function removeBenchTls(t: BenchTls): void {
  rmSync(t.dir, { recursive: true, force: true });
}
