/**
 * TLS on the client port: one handshake engine (a tls.Server that never listens itself) shared by
 * every https:// and unixs:// listener, a classifier that hands each decrypted connection to gRPC
 * (ALPN h2) or to the HTTP/1.1 server (ALPN http/1.1 or none, as etcd's Go server does), and the
 * certificate files re-read when they change, so a rotated certificate reaches new connections
 * without a restart.
 */
import { readFileSync, unwatchFile, watchFile, type Stats } from 'node:fs';
import type * as net from 'node:net';
import * as tls from 'node:tls';
import { X509Certificate } from 'node:crypto';
import type { Logger } from 'pino';
import type { ServerTls } from '../config';
import type { Classifier } from './listener';

/** A handshake not finished this long after the connection opened is dropped. */
const HANDSHAKE_TIMEOUT_MS = 30_000;
/** How often the certificate files are stat'ed (fs.watchFile also follows cert-manager's symlink swaps). */
const WATCH_INTERVAL_MS = 1000;

/** The secure-context half of node's TLS options, rebuilt from the files on every change. */
function contextOptions(c: ServerTls): tls.SecureContextOptions {
  const read = (file: string, what: string): string => {
    try {
      return readFileSync(file, 'utf8');
    } catch (e) {
      throw new Error(`cannot read the TLS ${what} file ${file}: ${(e as Error).message}`, { cause: e });
    }
  };
  const cert = read(c.certFile, 'certificate');
  try {
    new X509Certificate(cert);
  } catch (e) {
    throw new Error(`the TLS certificate file ${c.certFile} holds no PEM certificate: ${(e as Error).message}`, { cause: e });
  }
  const o: tls.SecureContextOptions = { cert, key: read(c.keyFile, 'key'), minVersion: c.minVersion };
  if (c.trustedCaFile) o.ca = read(c.trustedCaFile, 'trusted CA');
  if (c.crlFile) o.crl = read(c.crlFile, 'CRL');
  if (c.ciphers) o.ciphers = c.ciphers;
  // createSecureContext checks what node can: key matches certificate, PEM syntax, cipher names.
  tls.createSecureContext(o);
  return o;
}

export class ServerTlsEngine {
  readonly server: tls.Server;
  private readonly files: string[];
  private closed = false;

  /** Throws (a start-up error) when a file cannot be read or does not make a usable context. */
  constructor(
    private readonly config: ServerTls,
    private readonly log: Logger,
  ) {
    this.server = tls.createServer({
      ...contextOptions(config),
      ALPNProtocols: ['h2', 'http/1.1'],
      // etcd: a trusted CA means every client must present a certificate it signed.
      requestCert: config.trustedCaFile !== undefined,
      rejectUnauthorized: true,
      handshakeTimeout: HANDSHAKE_TIMEOUT_MS,
    });
    this.server.on('tlsClientError', (e: Error & { code?: string }, socket: tls.TLSSocket) => {
      log.debug({ code: e.code, err: e.message, remote: socket.remoteAddress }, 'TLS handshake refused');
    });
    this.files = [config.certFile, config.keyFile, config.trustedCaFile, config.crlFile].filter((f): f is string => !!f);
  }

  /** Starts following the files. */
  watch(): void {
    for (const f of this.files) watchFile(f, { interval: WATCH_INTERVAL_MS, persistent: false }, (cur, prev) => this.changed(f, cur, prev));
  }

  private changed(file: string, cur: Stats, prev: Stats): void {
    if (this.closed || (cur.mtimeMs === prev.mtimeMs && cur.ino === prev.ino && cur.size === prev.size)) return;
    try {
      this.server.setSecureContext(contextOptions(this.config));
      this.log.info({ file, certificate: this.describe() }, 'TLS files re-read; new connections use them');
    } catch (e) {
      // A half-written pair (new certificate, old key) lands here too; the next change retries.
      this.log.error({ file, err: (e as Error).message }, 'TLS files changed but cannot be used; the previous certificate stays');
    }
  }

  private describe(): string | undefined {
    try {
      const c = new X509Certificate(readFileSync(this.config.certFile));
      return `${c.subject.replace(/\n/g, ', ')} serial ${c.serialNumber}`;
    } catch {
      return undefined;
    }
  }

  close(): void {
    this.closed = true;
    for (const f of this.files) unwatchFile(f);
  }

  /**
   * The classifier of a TLS listener: the raw socket goes through the shared handshake engine and
   * comes back decrypted, or null when the handshake failed or the client was refused.
   */
  classifier(): Classifier {
    const waiting = new Map<net.Socket, (c: Awaited<ReturnType<Classifier>>) => void>();
    this.server.on('secureConnection', (t: tls.TLSSocket) => {
      // tls.Server keeps the socket it wrapped; node has no public accessor for it.
      const raw = (t as unknown as { _parent?: net.Socket })._parent;
      const done = raw && waiting.get(raw);
      if (!raw || !done) return void t.destroy();
      waiting.delete(raw);
      done({ protocol: t.alpnProtocol === 'h2' ? 'h2' : 'http1', stream: t });
    });
    return (socket) =>
      new Promise((resolve) => {
        waiting.set(socket, resolve);
        // A refused handshake (no certificate, wrong CA, revoked) ends with the raw socket closing.
        socket.once('close', () => {
          if (waiting.delete(socket)) resolve(null);
        });
        this.server.emit('connection', socket);
      });
  }
}
