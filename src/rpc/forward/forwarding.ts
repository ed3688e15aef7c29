/**
 * Writer election and forwarding as one piece: the election, the route other instances' writes
 * take to the writer, and the writer's service for them. Built before the server starts (the
 * service is registered with the others); started once this instance's advertised address is
 * known, and only then does any write leave the instance.
 */
import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import type { Store } from '../../mvcc/store';
import { WriterElection } from './election';
import { Forwarder, type ForwardStats } from './forwarder';
import { forwardSecret } from './wire';
import { writerService, type WriterService } from './writer-service';

export interface ForwardReadings extends ForwardStats {
  /** Whether this instance holds the writer lease now. */
  writer: boolean;
}

export class Forwarding {
  readonly service: WriterService;
  private readonly election: WriterElection;
  private readonly forwarder: Forwarder;

  constructor(
    private readonly store: Store,
    log: Logger,
  ) {
    const lease = store.writerLease;
    if (!lease) throw new Error('this database cannot elect a writer');
    const secret = forwardSecret(store.authTokenSecret);
    this.election = new WriterElection(lease, randomBytes(8).toString('hex'), log);
    this.forwarder = new Forwarder(this.election, secret, log);
    this.service = writerService(store, this.election, secret, log);
  }

  /** Joins the election advertising `address` (host:port, plaintext gRPC), then routes writes. */
  async start(address: string): Promise<void> {
    await this.election.start(address);
    this.store.route = this.forwarder;
  }

  readings(): ForwardReadings {
    return { ...this.forwarder.stats, writer: this.election.isWriter() };
  }

  /** Writes commit here from now on; the lease, if held, is ended for a successor. */
  async stop(): Promise<void> {
    this.store.route = undefined;
    await this.election.stop();
    this.forwarder.close();
  }
}

/** The host:port other instances reach this one's gRPC on: the first plaintext advertised client URL. */
export function forwardAddress(clientUrls: readonly string[]): string | undefined {
  for (const u of clientUrls) {
    const m = /^http:\/\/([^/]+)\/?$/.exec(u);
    if (m) return m[1];
  }
  return undefined;
}
