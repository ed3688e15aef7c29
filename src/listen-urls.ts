/**
 * Listen and advertise URLs as etcd's --listen-client-urls / --advertise-client-urls /
 * --listen-metrics-urls take them: comma-separated; `https://` (and `unixs://`) serve TLS,
 * `http://`, `unix://` and a bare `host:port` plaintext. Pure parsing.
 */
import { ConfigError } from './config-error';

export type ListenAddress = { kind: 'tcp'; host: string; port: number } | { kind: 'unix'; path: string };

/** One address to listen on, and whether connections to it speak TLS. */
export interface ListenUrl {
  /** As given on the command line (for messages). */
  url: string;
  tls: boolean;
  at: ListenAddress;
}

export function parseListenAddress(s: string): ListenAddress {
  return parseListenUrl(s).at;
}

function parseListenUrl(s: string): ListenUrl {
  const unix = /^unix(s?):\/\/(.*)$/.exec(s);
  if (unix) {
    if (!unix[2]) throw new ConfigError(`invalid listen address "${s}": unix:// needs a socket path`);
    return { url: s, tls: unix[1] === 's', at: { kind: 'unix', path: unix[2] } };
  }
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(s);
  if (scheme && !['http', 'https'].includes(scheme[1].toLowerCase())) {
    throw new ConfigError(`invalid listen address "${s}": the scheme is http, https, unix or unixs`);
  }
  const hostPort = s.replace(/^https?:\/\//i, '').replace(/\/$/, '');
  const m = /^(\[[0-9a-fA-F:.]+\]|[^:/\s]*):(\d{1,5})$/.exec(hostPort);
  const port = m ? Number(m[2]) : NaN;
  if (!m || port > 65535) {
    throw new ConfigError(`invalid listen address "${s}": expected host:port, http(s)://host:port or unix://path`);
  }
  const host = m[1] === '' ? '0.0.0.0' : m[1].replace(/^\[|\]$/g, '');
  return { url: s, tls: scheme?.[1].toLowerCase() === 'https', at: { kind: 'tcp', host, port } };
}

/** A comma-separated list, none twice. */
export function parseListenUrls(s: string, flag: string): ListenUrl[] {
  const parts = s.split(',').map((p) => p.trim());
  if (parts.some((p) => p === '')) throw new ConfigError(`invalid --${flag} "${s}": an empty URL in the list`);
  const urls = parts.map(parseListenUrl);
  const seen = new Set<string>();
  for (const u of urls) {
    const key = u.at.kind === 'unix' ? u.at.path : `${u.at.host}:${u.at.port}`;
    if (seen.has(key) && !(u.at.kind === 'tcp' && u.at.port === 0))
      throw new ConfigError(`invalid --${flag} "${s}": ${key} is listed twice`);
    seen.add(key);
  }
  return urls;
}

/** --advertise-client-urls: absolute URLs, reported by MemberList as given. */
export function parseAdvertiseUrls(s: string): string[] {
  const urls = s.split(',').map((p) => p.trim());
  for (const u of urls) {
    if (!/^(https?:\/\/[^/\s]+|unixs?:\/\/\S+)\/?$/i.test(u)) {
      throw new ConfigError(`invalid --advertise-client-urls "${s}": "${u}" is not an http(s):// or unix(s):// URL`);
    }
  }
  return urls;
}

/**
 * --initial-advertise-peer-urls: strata has no peers, but etcd always reports one peer URL per
 * member and clients (and etcdctl member list) expect it; taken as given, etcd's default when absent.
 */
export function parsePeerUrls(s: string): string[] {
  const urls = s.split(',').map((p) => p.trim());
  for (const u of urls) {
    if (!/^https?:\/\/[^/\s]+\/?$/i.test(u)) {
      throw new ConfigError(`invalid --initial-advertise-peer-urls "${s}": "${u}" is not an http(s):// URL`);
    }
  }
  return urls;
}

/** Hosts that mean "every interface": not an address a client can dial. */
/**
 * What MemberList reports when --advertise-client-urls is not given. etcd refuses to start then
 * (when the listen URLs were given); strata, whose --listen-address never needed it, advertises the
 * bound URLs, with an every-interface host (0.0.0.0, ::) replaced by the machine's host name, which
 * other hosts can dial where 0.0.0.0 means nothing.
 */
export function defaultAdvertiseUrls(bound: string[], host: string): { urls: string[]; replaced: boolean } {
  let replaced = false;
  const urls = bound.map((u) =>
    u.replace(/^(https?:\/\/)(0\.0\.0\.0|::|\[::\]):(\d+)$/, (_, scheme: string, _h: string, port: string) => {
      replaced = true;
      return `${scheme}${host}:${port}`;
    }),
  );
  return { urls, replaced };
}

/** --listen-client-urls, or its older name --listen-address; both with different values is an error. */
export function parseClientUrls(urls: string | undefined, listenAddress: string | undefined, def: string): ListenUrl[] {
  if (urls && listenAddress && urls !== listenAddress) {
    throw new ConfigError('--listen-address is the older name of --listen-client-urls; give one');
  }
  return parseListenUrls(urls || listenAddress || def, 'listen-client-urls');
}

/** --listen-metrics-urls: plaintext only. */
export function parseMetricsUrls(s: string | undefined): ListenAddress[] {
  if (!s) return [];
  return parseListenUrls(s, 'listen-metrics-urls').map((u) => {
    if (u.tls)
      throw new ConfigError(`invalid --listen-metrics-urls "${u.url}": strata serves metrics in plaintext only (http:// or unix://)`);
    return u.at;
  });
}
