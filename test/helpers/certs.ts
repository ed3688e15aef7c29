/**
 * Certificates for TLS tests, made by openssl in a temp dir: a CA, a server certificate for
 * 127.0.0.1/localhost, client certificates by Common Name (CN = the auth user), a second CA that
 * signs nothing strata trusts, and a CRL revoking chosen clients. ECDSA P-256 keeps it fast.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';

export interface CertPair {
  cert: string;
  key: string;
}

export interface Pki {
  dir: string;
  ca: string;
  /** CA and key of the trusted authority. */
  caKey: string;
  server: CertPair;
  /** A client certificate signed by the CA, for this CN. */
  client(cn: string): CertPair;
  /** A CA strata does not trust, and a client it signed. */
  strangerClient(cn: string): CertPair;
  /** A new server certificate (a new serial and CN) written over `to`'s files, for rotation. */
  reissueServer(cn: string, to?: CertPair): CertPair;
  /** Writes a CRL revoking the given client certificates; returns its path. */
  crl(revoked: CertPair[]): string;
  /** The certificate's serial, as node prints it (upper-case hex). */
  serial(cert: string): string;
  cleanup(): void;
}

function openssl(args: string[], cwd: string): string {
  const r = spawnSync('openssl', args, { cwd, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`openssl ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

const KEY = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

export function makePki(): Pki {
  const dir = mkdtempSync(path.join(tmpdir(), 'strata-pki-'));
  const p = (f: string) => path.join(dir, f);
  writeFileSync(
    p('ext.cnf'),
    [
      '[server]',
      'subjectAltName=IP:127.0.0.1,DNS:localhost',
      'extendedKeyUsage=serverAuth,clientAuth',
      '[client]',
      'extendedKeyUsage=clientAuth',
      '',
    ].join('\n'),
  );
  writeFileSync(p('index.txt'), '');
  writeFileSync(p('crlnumber'), '01\n');
  writeFileSync(
    p('ca.cnf'),
    [
      '[ca]',
      'default_ca=d',
      '[d]',
      `database=${p('index.txt')}`,
      `crlnumber=${p('crlnumber')}`,
      'default_md=sha256',
      'default_crl_days=2',
      '',
    ].join('\n'),
  );
  const selfSigned = (name: string) =>
    openssl(['req', '-x509', ...KEY, '-keyout', `${name}.key`, '-out', `${name}.pem`, '-subj', `/CN=${name}`, '-days', '2'], dir);
  selfSigned('ca');
  selfSigned('stranger-ca');
  let n = 0;
  const issue = (cn: string, ext: 'server' | 'client', by: string, out?: CertPair): CertPair => {
    const base = `${ext}-${cn}-${++n}`;
    openssl(['req', ...KEY, '-keyout', `${base}.key`, '-out', `${base}.csr`, '-subj', `/CN=${cn}`], dir);
    openssl(
      [
        'x509',
        '-req',
        '-in',
        `${base}.csr`,
        '-CA',
        `${by}.pem`,
        '-CAkey',
        `${by}.key`,
        '-set_serial',
        String(1000 + n),
        '-out',
        `${base}.pem`,
        '-days',
        '2',
      ].concat(['-extfile', 'ext.cnf', '-extensions', ext]),
      dir,
    );
    const made = { cert: p(`${base}.pem`), key: p(`${base}.key`) };
    if (!out) return made;
    // Key first, then certificate: what a careful rotation does; strata retries on a mismatched pair anyway.
    writeFileSync(out.key, readFileSync(made.key));
    writeFileSync(out.cert, readFileSync(made.cert));
    return out;
  };
  const server = issue('server', 'server', 'ca');
  return {
    dir,
    ca: p('ca.pem'),
    caKey: p('ca.key'),
    server,
    client: (cn) => issue(cn, 'client', 'ca'),
    strangerClient: (cn) => issue(cn, 'client', 'stranger-ca'),
    reissueServer: (cn, to) => issue(cn, 'server', 'ca', to),
    crl(revoked) {
      for (const c of revoked) openssl(['ca', '-config', 'ca.cnf', '-keyfile', 'ca.key', '-cert', 'ca.pem', '-revoke', c.cert], dir);
      openssl(['ca', '-config', 'ca.cnf', '-keyfile', 'ca.key', '-cert', 'ca.pem', '-gencrl', '-out', 'crl.pem'], dir);
      return p('crl.pem');
    },
    serial: (cert) =>
      openssl(['x509', '-in', cert, '-noout', '-serial'], dir)
        .trim()
        .replace(/^serial=/, '')
        .toUpperCase(),
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}
