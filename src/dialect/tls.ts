/**
 * TLS to a database server, the same for PostgreSQL and MySQL: the endpoint's own TLS mode plus
 * kine's --ca-file/--cert-file/--key-file/--skip-verify flags. Files are read once, at open.
 */
import { readFileSync } from 'node:fs';
import type { DatastoreTls } from '../config';
import type { ServerEndpoint } from '../endpoint';

/** The subset of node's TLS options both drivers take. */
interface DbTlsOptions {
  rejectUnauthorized: boolean;
  ca?: string;
  cert?: string;
  key?: string;
  checkServerIdentity?: () => undefined;
}

/** TLS options for the connection, or undefined for plaintext. */
export function tlsOptions(e: ServerEndpoint, flags: DatastoreTls): DbTlsOptions | undefined {
  const caFile = flags.caFile ?? e.params.sslrootcert;
  const certFile = flags.certFile ?? e.params.sslcert;
  const keyFile = flags.keyFile ?? e.params.sslkey;
  let mode = e.tls;
  // As kine: certificate files given on the command line turn on verified TLS unless the endpoint
  // chose a mode explicitly.
  const explicit = e.params.sslmode !== undefined || e.params.tls !== undefined;
  if (!explicit && (flags.caFile || flags.certFile || flags.keyFile)) mode = 'verify-full';
  // node-postgres and mysql2 cannot fall back from TLS to plaintext, so "prefer" means plaintext.
  if (mode === 'disable' || mode === 'prefer') return undefined;
  const verify = !flags.skipVerify && (mode === 'verify-ca' || mode === 'verify-full');
  const opts: DbTlsOptions = { rejectUnauthorized: verify };
  if (caFile) opts.ca = read(caFile, 'CA');
  if (certFile) opts.cert = read(certFile, 'certificate');
  if (keyFile) opts.key = read(keyFile, 'key');
  // verify-ca checks the chain but not the host name, as libpq does.
  if (verify && mode === 'verify-ca') opts.checkServerIdentity = () => undefined;
  return opts;
}

function read(file: string, what: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (e) {
    throw new Error(`cannot read the database TLS ${what} file ${file}: ${(e as Error).message}`, { cause: e });
  }
}
