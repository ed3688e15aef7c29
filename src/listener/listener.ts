/**
 * One listening socket (TCP or unix) for every protocol strata speaks. Each accepted connection is
 * classified, then handed to the gRPC server (HTTP/2) or to the HTTP/1.1 server (gateway, /version,
 * /health, /metrics) in this process: no second port and no proxy hop.
 *
 * A `Classifier` turns a raw socket into (protocol, stream). Plaintext sniffs the HTTP/2 preface;
 * TLS (./tls.ts) runs the handshake offering ALPN ["h2", "http/1.1"], picks by the protocol agreed
 * and hands the decrypted socket on in the same way.
 */
import { existsSync, unlinkSync } from 'node:fs';
import * as net from 'node:net';
import type { Logger } from 'pino';
import type { Duplex } from 'node:stream';
import type { ListenAddress } from '../config';
import { rewriteAuthority } from './h2-authority';
import { sniffProtocol, type Protocol } from './sniff';

export type Classifier = (socket: net.Socket) => Promise<{ protocol: Protocol; stream: net.Socket } | null>;

/** A connection that sends nothing this long is dropped before it is classified. */
const SNIFF_TIMEOUT_MS = 30_000;

const plaintext: Classifier = async (socket) => {
  const protocol = await sniffProtocol(socket, SNIFF_TIMEOUT_MS);
  return protocol ? { protocol, stream: socket } : null;
};

interface ConnectionHandlers {
  h2(stream: Duplex): void;
  http1(stream: net.Socket): void;
}

export class Listener {
  private readonly unclassified = new Set<net.Socket>();

  private constructor(
    private readonly server: net.Server,
    /** host:port or unix://path, as clients reach it. */
    readonly address: string,
  ) {}

  static async listen(at: ListenAddress, handlers: ConnectionHandlers, log: Logger, classify: Classifier = plaintext): Promise<Listener> {
    const server = net.createServer({ noDelay: true });
    if (at.kind === 'unix') await listenUnix(server, at.path);
    else await listenOn(server, () => server.listen(at.port, at.host));
    const addr = server.address();
    const host = at.kind === 'tcp' && at.host.includes(':') ? `[${at.host}]` : at.kind === 'tcp' ? at.host : '';
    const address = at.kind === 'unix' ? `unix://${at.path}` : `${host}:${typeof addr === 'object' && addr ? addr.port : at.port}`;
    const l = new Listener(server, address);
    server.on('connection', (socket) => {
      l.unclassified.add(socket);
      socket.on('error', (e) => log.debug({ err: e }, 'connection error'));
      classify(socket).then(
        (c) => {
          l.unclassified.delete(socket);
          if (!c) return void socket.destroy();
          // A unix socket's clients send its path as :authority, which node's HTTP/2 refuses.
          if (c.protocol === 'h2') handlers.h2(at.kind === 'unix' ? rewriteAuthority(c.stream) : c.stream);
          else handlers.http1(c.stream);
        },
        (e: unknown) => {
          l.unclassified.delete(socket);
          log.debug({ err: e }, 'connection not classified');
          socket.destroy();
        },
      );
    });
    return l;
  }

  /** Stops accepting connections (a unix socket file is removed); open connections stay. */
  close(): Promise<void> {
    for (const s of this.unclassified) s.destroy();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

function listenOn(server: net.Server, start: () => void): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (e: Error) => reject(e);
    server.once('error', onError);
    server.once('listening', () => {
      server.removeListener('error', onError);
      resolve();
    });
    start();
  });
}

/** A socket file left by a process that died is replaced; one a live server answers on is not. */
async function listenUnix(server: net.Server, path: string): Promise<void> {
  try {
    await listenOn(server, () => server.listen(path));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EADDRINUSE' || !existsSync(path) || (await answers(path))) throw e;
    unlinkSync(path);
    await listenOn(server, () => server.listen(path));
  }
}

function answers(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const c = net.connect(path);
    c.once('connect', () => {
      c.destroy();
      resolve(true);
    });
    c.once('error', () => resolve(false));
  });
}
