/**
 * Bytes exchanged with gRPC clients, for etcd_network_client_grpc_{received,sent}_bytes_total.
 * grpc-js tells its interceptors nothing of message sizes, so strata counts at the connection:
 * every byte of a gRPC connection (HTTP/2 frames, and TLS records on a TLS URL), read from the
 * socket's own counters when scraped, so the request path pays nothing.
 */
import type { Socket } from 'node:net';

export class ClientTraffic {
  private readonly open = new Set<Socket>();
  private closedRead = 0;
  private closedWritten = 0;

  /** Counts a gRPC connection from now until it closes. */
  track(socket: Socket): void {
    this.open.add(socket);
    socket.once('close', () => {
      this.open.delete(socket);
      this.closedRead += socket.bytesRead;
      this.closedWritten += socket.bytesWritten;
    });
  }

  totals(): { received: number; sent: number } {
    let received = this.closedRead;
    let sent = this.closedWritten;
    for (const s of this.open) {
      received += s.bytesRead;
      sent += s.bytesWritten;
    }
    return { received, sent };
  }
}
