/**
 * The gRPC metrics interceptor's call: counted when its status is sent. Every step goes straight
 * to the call beneath, as grpc-js's ServerInterceptingCall does with synchronous responders and
 * listeners, but without that class's closures per step (the interceptor's cost on the unary path).
 * The steps not overridden (startRead, getPeer, getDeadline, ...) delegate in the base class.
 */
import * as grpc from '@grpc/grpc-js';
import type { CounterChild, HistogramChild } from './fast-metrics';

type Child = CounterChild;
type CallListener = Parameters<grpc.ServerInterceptingCallInterface['start']>[0];
type Status = Parameters<grpc.ServerInterceptingCallInterface['sendStatus']>[0];

/** One method's metric children, bound once. */
export interface MethodChildren {
  started: Child;
  /** The handled counter of one code, bound on first use. */
  handledOf(code: number): Child;
  /** strata_requests_total of one code, bound on first use. */
  requestsOf(code: number): Child;
  seconds: HistogramChild;
  kv: Child | undefined;
}

export class CountedCall extends grpc.ServerInterceptingCall {
  private readonly started = performance.now();
  private metadataSent = false;

  constructor(
    private readonly next: grpc.ServerInterceptingCallInterface,
    private readonly c: MethodChildren,
  ) {
    super(next);
    c.started.inc();
  }

  override start(listener: CallListener): void {
    this.next.start(new UntilCancelled(listener));
  }

  override sendMetadata(metadata: grpc.Metadata): void {
    this.metadataSent = true;
    this.next.sendMetadata(metadata);
  }

  override sendMessage(message: unknown, callback: () => void): void {
    // As ServerInterceptingCall: headers go before the message is serialized, so a response that
    // fails to serialize or is over the send limit still ends in trailers after headers.
    if (!this.metadataSent) this.sendMetadata(new grpc.Metadata());
    this.next.sendMessage(message, callback);
  }

  override sendStatus(status: Status): void {
    const c = this.c;
    c.handledOf(status.code).inc();
    c.requestsOf(status.code).inc();
    c.seconds.observe((performance.now() - this.started) / 1000);
    if (status.code === 0) c.kv?.inc();
    this.next.sendStatus(status);
  }
}

/** Passes the call's events on until it is cancelled, as ServerInterceptingCall's listener does. */
class UntilCancelled implements CallListener {
  private cancelled = false;

  constructor(private readonly next: CallListener) {}

  onReceiveMetadata(metadata: grpc.Metadata): void {
    if (!this.cancelled) this.next.onReceiveMetadata(metadata);
  }

  onReceiveMessage(message: unknown): void {
    if (!this.cancelled) this.next.onReceiveMessage(message);
  }

  onReceiveHalfClose(): void {
    if (!this.cancelled) this.next.onReceiveHalfClose();
  }

  onCancel(): void {
    this.cancelled = true;
    this.next.onCancel();
  }
}
