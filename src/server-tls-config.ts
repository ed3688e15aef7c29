/**
 * The client-facing TLS settings, with etcd's flags and checks: --cert-file/--key-file (kine:
 * --server-cert-file/--server-key-file), --trusted-ca-file, --client-cert-auth, --client-crl-file,
 * --cipher-suites (Go's names, as etcd takes them) and --tls-min-version. Pure parsing: files are
 * read when the listener starts.
 */
import { ConfigError } from './config-error';
import type { ListenUrl } from './listen-urls';

export type TlsMinVersion = 'TLSv1.2' | 'TLSv1.3';

export interface ServerTls {
  certFile: string;
  keyFile: string;
  /** CA bundle for client certificates; given, every client must present one it signed (etcd). */
  trustedCaFile?: string;
  /** etcd's --client-cert-auth: client certificates required, and their CN is the auth user. */
  clientCertAuth: boolean;
  crlFile?: string;
  /** OpenSSL's cipher list for TLS 1.2, or undefined for node's defaults. TLS 1.3 suites are fixed, as Go's. */
  ciphers?: string;
  minVersion: TlsMinVersion;
}

export interface ServerTlsRaw {
  certFile?: string;
  keyFile?: string;
  serverCertFile?: string;
  serverKeyFile?: string;
  trustedCaFile?: string;
  clientCertAuth?: string | boolean;
  clientCrlFile?: string;
  cipherSuites?: string;
  tlsMinVersion?: string;
}

/** Go's crypto/tls names (etcd's --cipher-suites) and OpenSSL's names for the same suites. */
const CIPHER_SUITES: Record<string, string> = {
  TLS_RSA_WITH_3DES_EDE_CBC_SHA: 'DES-CBC3-SHA',
  TLS_RSA_WITH_AES_128_CBC_SHA: 'AES128-SHA',
  TLS_RSA_WITH_AES_256_CBC_SHA: 'AES256-SHA',
  TLS_RSA_WITH_AES_128_CBC_SHA256: 'AES128-SHA256',
  TLS_RSA_WITH_AES_128_GCM_SHA256: 'AES128-GCM-SHA256',
  TLS_RSA_WITH_AES_256_GCM_SHA384: 'AES256-GCM-SHA384',
  TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA: 'ECDHE-ECDSA-AES128-SHA',
  TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA: 'ECDHE-ECDSA-AES256-SHA',
  TLS_ECDHE_RSA_WITH_3DES_EDE_CBC_SHA: 'ECDHE-RSA-DES-CBC3-SHA',
  TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA: 'ECDHE-RSA-AES128-SHA',
  TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA: 'ECDHE-RSA-AES256-SHA',
  TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256: 'ECDHE-ECDSA-AES128-SHA256',
  TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256: 'ECDHE-RSA-AES128-SHA256',
  TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256: 'ECDHE-RSA-AES128-GCM-SHA256',
  TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256: 'ECDHE-ECDSA-AES128-GCM-SHA256',
  TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384: 'ECDHE-RSA-AES256-GCM-SHA384',
  TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384: 'ECDHE-ECDSA-AES256-GCM-SHA384',
  TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305: 'ECDHE-RSA-CHACHA20-POLY1305',
  TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305: 'ECDHE-ECDSA-CHACHA20-POLY1305',
  TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256: 'ECDHE-RSA-CHACHA20-POLY1305',
  TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256: 'ECDHE-ECDSA-CHACHA20-POLY1305',
};

/** etcd's --tls-min-version values. */
const TLS_VERSIONS: Record<string, TlsMinVersion> = { 'TLS1.2': 'TLSv1.2', 'TLS1.3': 'TLSv1.3' };

/** Go's names → OpenSSL's cipher list; an unknown name is etcd's start-up error. */
function opensslCiphers(list: string): string {
  return list
    .split(',')
    .map((name) => {
      const o = CIPHER_SUITES[name.trim()];
      if (!o) throw new ConfigError(`invalid --cipher-suites: unexpected TLS cipher suite "${name.trim()}"`);
      return o;
    })
    .join(':');
}

function flagBool(v: string | boolean | undefined, flag: string): boolean {
  if (v === undefined || v === false) return false;
  if (v === true) return true;
  const s = v.toLowerCase();
  if (['true', '1', 't'].includes(s)) return true;
  if (['false', '0', 'f', ''].includes(s)) return false;
  throw new ConfigError(`invalid --${flag} "${v}": expected true or false`);
}

/** One of two names for the same flag; both given with different values is an error. */
function alias(primary: string | undefined, other: string | undefined, names: [string, string]): string | undefined {
  if (primary && other && primary !== other) throw new ConfigError(`--${names[0]} and --${names[1]} name the same file; give one`);
  return primary || other || undefined;
}

/**
 * The TLS settings, or undefined when strata serves plaintext only. Every flag given must take
 * effect: a TLS flag without a certificate, a certificate without an https:// URL, or an https://
 * URL without a certificate stops start-up.
 */
export function parseServerTls(raw: ServerTlsRaw, listen: ListenUrl[]): ServerTls | undefined {
  const certFile = alias(raw.certFile, raw.serverCertFile, ['cert-file', 'server-cert-file']);
  const keyFile = alias(raw.keyFile, raw.serverKeyFile, ['key-file', 'server-key-file']);
  const clientCertAuth = flagBool(raw.clientCertAuth, 'client-cert-auth');
  const tlsUrls = listen.filter((u) => u.tls);
  if (!certFile || !keyFile) {
    if (certFile || keyFile) throw new ConfigError('--cert-file and --key-file go together: give both or neither');
    // etcd: "TLS key/cert (--cert-file, --key-file) must be provided for client url https://…"
    if (tlsUrls.length > 0)
      throw new ConfigError(`TLS key/cert (--cert-file, --key-file) must be provided for client url ${tlsUrls[0].url}`);
    const given: Array<[string, unknown]> = [
      ['trusted-ca-file', raw.trustedCaFile],
      ['client-cert-auth', clientCertAuth || undefined],
      ['client-crl-file', raw.clientCrlFile],
      ['cipher-suites', raw.cipherSuites],
      ['tls-min-version', raw.tlsMinVersion],
    ];
    const stray = given.find(([, v]) => v);
    if (stray) throw new ConfigError(`--${stray[0]} has no effect without --cert-file and --key-file (and an https:// client URL)`);
    return undefined;
  }
  if (tlsUrls.length === 0) {
    throw new ConfigError(
      '--cert-file/--key-file are given but no client URL is https:// or unixs://; use e.g. --listen-client-urls https://0.0.0.0:2379',
    );
  }
  const trustedCaFile = raw.trustedCaFile || undefined;
  if (clientCertAuth && !trustedCaFile)
    throw new ConfigError('--client-cert-auth needs --trusted-ca-file (the CA that signs client certificates)');
  if (raw.clientCrlFile && !trustedCaFile)
    throw new ConfigError('--client-crl-file needs --trusted-ca-file: without client certificates there is nothing to revoke');
  const minVersion = raw.tlsMinVersion ? TLS_VERSIONS[raw.tlsMinVersion] : 'TLSv1.2';
  if (!minVersion)
    throw new ConfigError(`invalid --tls-min-version "${raw.tlsMinVersion}": one of ${Object.keys(TLS_VERSIONS).join(', ')}`);
  const ciphers = raw.cipherSuites ? opensslCiphers(raw.cipherSuites) : undefined;
  // etcd: Go's TLS 1.3 suites cannot be chosen.
  if (ciphers && minVersion === 'TLSv1.3') throw new ConfigError('cipher suites cannot be configured when only TLS1.3 is enabled');
  return { certFile, keyFile, trustedCaFile, clientCertAuth, crlFile: raw.clientCrlFile || undefined, ciphers, minVersion };
}
