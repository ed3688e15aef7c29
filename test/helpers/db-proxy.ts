/** A TCP proxy to a database server that a test can cut (every connection dropped, new ones refused) and open again. */
import * as net from 'node:net';
import { freePort } from './ports';

export interface DbProxy {
  port: number;
  open(): Promise<void>;
  cut(): Promise<void>;
}

export async function dbProxy(target: { host: string; port: number }, startOpen = true): Promise<DbProxy> {
  const sockets = new Set<net.Socket>();
  const port = await freePort();
  let server: net.Server | undefined;
  const open = () =>
    new Promise<void>((resolve, reject) => {
      if (server?.listening) return resolve();
      server = net.createServer((c) => {
        const up = net.connect(target.port, target.host);
        for (const x of [c, up]) {
          sockets.add(x);
          x.on('close', () => sockets.delete(x));
          x.on('error', () => undefined);
        }
        c.pipe(up).pipe(c);
      });
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => resolve());
    });
  const cut = () =>
    new Promise<void>((resolve) => {
      for (const x of sockets) x.destroy();
      if (!server?.listening) return resolve();
      server.close(() => resolve());
    });
  if (startOpen) await open();
  return { port, open, cut };
}
