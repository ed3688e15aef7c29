/**
 * The other instances' side: a client write goes to the elected writer over gRPC, so one batch
 * carries everybody's writes and no two nodes' batches fight over the fence. It falls back to
 * committing here whenever it is certain the writer did not run the write — the writer could not
 * be reached before the call was made, refused the call, or answered that it is not the writer —
 * and asks for a claim of the lease then. Once a call is under way, a lost connection or a
 * deadline leaves the outcome unknown: the client gets etcd's "request timed out" (the write may
 * or may not have applied, as with etcd), never a definite failure and never a second attempt.
 */
import * as grpc from '@grpc/grpc-js';
import type { Logger } from 'pino';
import { EtcdError, Errors } from '../../errors';
import type { Credentials } from '../../mvcc/auth/types';
import type { RoutedWrites, WriteOp, WriteRoute } from '../../mvcc/write-route';
import type { WriterElection } from './election';
import { decodeAnswer, encodeWrite, FORWARD_PATH, SECRET_HEADER } from './wire';

/** How long a call waits for a connection to the writer before the write commits here instead. */
const CONNECT_WAIT_MS = 250;
/** After the writer could not be reached, writes commit here for this long before it is tried again. */
const UNREACHABLE_MS = 500;
/** The writer gives up on a write after etcd's request timeout (7 s); the call waits a little longer for its answer. */
const CALL_DEADLINE_MS = 10_000;
/** Answers that prove the writer ran nothing: it refused the call before reading it. */
const NOT_RUN = new Set([grpc.status.PERMISSION_DENIED, grpc.status.UNIMPLEMENTED, grpc.status.RESOURCE_EXHAUSTED]);

export interface ForwardStats {
  /** Writes the writer answered. */
  forwarded: number;
  /** Writes committed here although another instance held the lease. */
  fallbacks: number;
  /** Forwarded writes whose outcome was lost with the connection (answered "request timed out"). */
  unknown: number;
}

export class Forwarder implements WriteRoute {
  readonly stats: ForwardStats = { forwarded: 0, fallbacks: 0, unknown: 0 };
  private channel: { address: string; client: grpc.Client } | undefined;
  private unreachableUntil = 0;

  constructor(
    private readonly election: WriterElection,
    private readonly secret: string,
    private readonly log: Logger,
  ) {}

  forward<K extends WriteOp>(
    op: K,
    req: RoutedWrites[K]['req'],
    who: Credentials,
  ): Promise<RoutedWrites[K]['res'] | undefined> | undefined {
    if (this.election.isWriter()) return undefined;
    const writer = this.election.writer();
    if (!writer) return undefined;
    if (performance.now() < this.unreachableUntil) {
      this.stats.fallbacks++;
      return undefined;
    }
    return this.send(writer.address, encodeWrite({ op, req, who } as never)) as Promise<RoutedWrites[K]['res'] | undefined>;
  }

  close(): void {
    this.channel?.client.close();
    this.channel = undefined;
  }

  private async send(address: string, message: Buffer): Promise<RoutedWrites[WriteOp]['res'] | undefined> {
    const client = this.clientFor(address);
    if (!(await ready(client))) return this.fallback('the writer cannot be reached', address);
    const metadata = new grpc.Metadata();
    metadata.set(SECRET_HEADER, this.secret);
    let bytes: Buffer;
    try {
      bytes = await new Promise<Buffer>((resolve, reject) =>
        client.makeUnaryRequest<Buffer, Buffer>(
          FORWARD_PATH,
          (b) => b,
          (b) => b,
          message,
          metadata,
          { deadline: Date.now() + CALL_DEADLINE_MS },
          (err, res) => (err || !res ? reject(err ?? new Error('no response')) : resolve(res)),
        ),
      );
    } catch (e) {
      const code = (e as grpc.ServiceError).code;
      if (NOT_RUN.has(code)) return this.fallback(`the writer refused the call (${grpc.status[code]})`, address);
      this.stats.unknown++;
      this.unreachableUntil = performance.now() + UNREACHABLE_MS;
      this.election.nudge();
      this.log.warn({ writer: address, error: (e as Error).message }, 'forwarded write: outcome unknown; answered request timed out');
      throw Errors.timeout();
    }
    const answer = decodeAnswer(bytes);
    if (answer.kind === 'not-writer') return this.fallback('the instance asked is not the writer', address);
    this.stats.forwarded++;
    if (answer.kind === 'error') throw new EtcdError(answer.code, answer.message);
    return answer.res;
  }

  private fallback(why: string, address: string): undefined {
    this.stats.fallbacks++;
    this.unreachableUntil = performance.now() + UNREACHABLE_MS;
    this.election.nudge();
    this.log.debug({ writer: address, why }, 'committing here instead of forwarding');
    return undefined;
  }

  private clientFor(address: string): grpc.Client {
    if (this.channel?.address === address) return this.channel.client;
    this.channel?.client.close();
    const client = new grpc.Client(address, grpc.credentials.createInsecure(), {
      // A writer back on its port is found again quickly.
      'grpc.initial_reconnect_backoff_ms': 100,
      'grpc.max_reconnect_backoff_ms': 1000,
      'grpc.max_send_message_length': -1,
      'grpc.max_receive_message_length': -1,
    });
    this.channel = { address, client };
    return client;
  }
}

/** Whether the client has (or gets within CONNECT_WAIT_MS) a connection: a call made without one was never sent. */
function ready(client: grpc.Client): Promise<boolean> {
  if (client.getChannel().getConnectivityState(true) === grpc.connectivityState.READY) return Promise.resolve(true);
  return new Promise((resolve) => client.waitForReady(Date.now() + CONNECT_WAIT_MS, (err) => resolve(!err)));
}
