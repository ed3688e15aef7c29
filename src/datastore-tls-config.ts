/**
 * TLS to the database server: k3s's --datastore-cafile/-certfile/-keyfile and kine's --skip-verify.
 * kine's --ca-file is refused, since etcd's meaning of the name differs. Pure parsing.
 */
import type { DatastoreTls } from './config';
import { ConfigError } from './config-error';
import type { Endpoint } from './endpoint';

interface DatastoreTlsRaw {
  caFile?: string;
  datastoreCafile?: string;
  datastoreCertfile?: string;
  datastoreKeyfile?: string;
  skipVerify?: boolean;
}

export function parseDatastoreTls(raw: DatastoreTlsRaw, endpoint: Endpoint): DatastoreTls {
  if (raw.caFile) {
    throw new ConfigError(
      "--ca-file is ambiguous and not taken: use --datastore-cafile for the database server's CA (kine's --ca-file) or --trusted-ca-file for client certificates",
    );
  }
  const tls: DatastoreTls = {
    caFile: raw.datastoreCafile || undefined,
    certFile: raw.datastoreCertfile || undefined,
    keyFile: raw.datastoreKeyfile || undefined,
    skipVerify: raw.skipVerify ?? false,
  };
  if (endpoint.kind === 'sqlite') {
    const given = [
      ['datastore-cafile', tls.caFile],
      ['datastore-certfile', tls.certFile],
      ['datastore-keyfile', tls.keyFile],
      ['skip-verify', tls.skipVerify || undefined],
    ].find(([, v]) => v);
    if (given) throw new ConfigError(`--${String(given[0])} applies to PostgreSQL and MySQL only; the endpoint is SQLite`);
  }
  if (Boolean(tls.certFile) !== Boolean(tls.keyFile))
    throw new ConfigError('--datastore-certfile and --datastore-keyfile go together: give both or neither');
  return tls;
}
