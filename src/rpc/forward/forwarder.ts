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
import { ETCD_REQUEST_TIMEOUT_MS } from '../../limits';
import type { RoutedWrite, RoutedWrites, WriteOp, WriteRoute } from '../../mvcc/write-route';
import type { WriterElection } from './election';
import { decodeAnswer, encodeWrite, FORWARD_PATH, frame, SECRET_HEADER, unframe, type ForwardAnswer } from './wire';

/** How long a call waits for a connection to the writer before the write commits here instead. */
const CONNECT_WAIT_MS = 250;
/** After the writer could not be reached, writes commit here for this long before it is tried again. */
const UNREACHABLE_MS = 500;
/** The writer gives up on a write at its deadline; the call waits this much longer for the answer saying so. */
const ANSWER_GRACE_MS = 3_000;
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

/** A write waiting for the next call to the writer. */
interface Waiting {
  bytes: Buffer;
  /** When its caller stops waiting (Date.now() clock). */
  deadline: number;
  resolve(res: RoutedWrites[WriteOp]['res'] | undefined): void;
  reject(e: unknown): void;
}

/** One call carries the writes waiting at the moment, up to this many bytes (a larger write goes alone). */
const CALL_BYTES = 1 << 20;

export class Forwarder implements WriteRoute {
  readonly stats: ForwardStats = { forwarded: 0, fallbacks: 0, unknown: 0 };
  private channel: { address: string; client: grpc.Client } | undefined;
  private unreachableUntil = 0;
  private waiting: Waiting[] = [];
  private scheduled = false;

  constructor(
    private readonly election: WriterElection,
    private readonly secret: string,
    private readonly log: Logger,
  ) {}

  forward<W extends RoutedWrite>(w: W): Promise<RoutedWrites[W['op']]['res'] | undefined> | undefined {
    if (this.election.isWriter() || !this.election.writer()) return undefined;
    if (performance.now() < this.unreachableUntil) {
      this.stats.fallbacks++;
      return undefined;
    }
    const bytes = encodeWrite(w);
    return new Promise((resolve, reject) => {
      this.waiting.push({
        bytes,
        deadline: w.deadline ?? Date.now() + ETCD_REQUEST_TIMEOUT_MS,
        resolve: resolve as Waiting['resolve'],
        reject,
      });
      if (!this.scheduled) {
        this.scheduled = true;
        // Everything that arrives in this turn of the event loop goes in the same call.
        setImmediate(() => this.flush());
      }
    });
  }

  close(): void {
    this.channel?.client.close();
    this.channel = undefined;
  }

  private flush(): void {
    this.scheduled = false;
    const writer = this.election.writer();
    while (this.waiting.length > 0) {
      let n = 0;
      let bytes = 0;
      while (n < this.waiting.length && (n === 0 || bytes + this.waiting[n].bytes.length <= CALL_BYTES))
        bytes += this.waiting[n++].bytes.length;
      const calls = this.waiting.splice(0, n);
      // This instance took the lease meanwhile, or nobody holds it: nothing was sent, so commit here.
      if (!writer || this.election.isWriter()) this.fallback(calls, 'no other writer now', '');
      // A failure before the call was made (send catches everything after) means nothing was sent.
      else this.send(writer.address, calls).catch((e: unknown) => this.fallback(calls, (e as Error).message, writer.address));
    }
  }

  private async send(address: string, calls: Waiting[]): Promise<void> {
    const client = this.clientFor(address);
    if (!(await ready(client))) return this.fallback(calls, 'the writer cannot be reached', address);
    const metadata = new grpc.Metadata();
    metadata.set(SECRET_HEADER, this.secret);
    let answers: ForwardAnswer[];
    try {
      const bytes = await new Promise<Buffer>((resolve, reject) =>
        client.makeUnaryRequest<Buffer, Buffer>(
          FORWARD_PATH,
          (b) => b,
          (b) => b,
          frame(calls.map((c) => c.bytes)),
          metadata,
          { deadline: Math.max(...calls.map((c) => c.deadline)) + ANSWER_GRACE_MS },
          (err, res) => (err || !res ? reject(err ?? new Error('no response')) : resolve(res)),
        ),
      );
      answers = unframe(bytes).map(decodeAnswer);
    } catch (e) {
      const code = (e as grpc.ServiceError).code;
      if (code !== undefined && NOT_RUN.has(code))
        return this.fallback(calls, `the writer refused the call (${grpc.status[code]})`, address);
      return this.unknown(calls, address, (e as Error).message);
    }
    if (answers.length === 1 && answers[0].kind === 'not-writer')
      return this.fallback(calls, 'the instance asked is not the writer', address);
    if (answers.length !== calls.length) return this.unknown(calls, address, `${answers.length} answers to ${calls.length} writes`);
    calls.forEach((c, i) => {
      const a = answers[i];
      if (a.kind === 'not-writer') return this.fallback([c], 'the instance asked is not the writer', address);
      this.stats.forwarded++;
      if (a.kind === 'error') c.reject(new EtcdError(a.code, a.message));
      else c.resolve(a.res);
    });
  }

  /** The writer did not run these: they commit here, and the lease is claimed in case the writer is gone. */
  private fallback(calls: Waiting[], why: string, address: string): void {
    this.stats.fallbacks += calls.length;
    this.unreachableUntil = performance.now() + UNREACHABLE_MS;
    this.election.nudge();
    this.log.debug({ writer: address, why, writes: calls.length }, 'committing here instead of forwarding');
    for (const c of calls) c.resolve(undefined);
  }

  /** The call was under way when it failed: each write may or may not have applied. */
  private unknown(calls: Waiting[], address: string, error: string): void {
    this.stats.unknown += calls.length;
    this.unreachableUntil = performance.now() + UNREACHABLE_MS;
    this.election.nudge();
    this.log.warn({ writer: address, error, writes: calls.length }, 'forwarded writes: outcome unknown; answered request timed out');
    for (const c of calls) c.reject(Errors.timeout());
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
