/**
 * go-grpc-prometheus's server metrics, as etcd serves them: started, handled (by code) and the
 * handling-time histogram per method, labelled grpc_type/grpc_service/grpc_method(/grpc_code);
 * and strata_requests_total by transport. Label children are bound once per method (and code), so
 * a call costs map look-ups, a few increments and one observation — no label objects per call.
 */
import * as grpc from '@grpc/grpc-js';
import { CountedCall, type MethodChildren } from './counted-call';
import type { CounterChild, FastCounter, FastHistogram, FastMetrics } from './fast-metrics';

type GrpcType = 'unary' | 'client_stream' | 'server_stream' | 'bidi_stream';
type Transport = 'grpc' | 'gateway';
type Child = CounterChild;

/** grpc-go's code names, as grpc_code labels them. */
const CODE_NAMES = [
  'OK',
  'Canceled',
  'Unknown',
  'InvalidArgument',
  'DeadlineExceeded',
  'NotFound',
  'AlreadyExists',
  'PermissionDenied',
  'ResourceExhausted',
  'FailedPrecondition',
  'Aborted',
  'OutOfRange',
  'Unimplemented',
  'Internal',
  'Unavailable',
  'DataLoss',
  'Unauthenticated',
];

/** etcd's mvcc counters, moved by the KV method that succeeded. */
interface KvCounters {
  Range: Child;
  Put: Child;
  DeleteRange: Child;
  Txn: Child;
}

export class GrpcMetrics {
  private readonly started: FastCounter;
  private readonly handled: FastCounter;
  private readonly seconds: FastHistogram;
  private readonly requests: FastCounter;
  /** transport → path → children */
  private readonly bound = { grpc: new Map<string, MethodChildren>(), gateway: new Map<string, MethodChildren>() };
  /** service → method → path, so the gateway builds no string per request. */
  private readonly paths = new Map<string, Map<string, string>>();

  constructor(
    fast: FastMetrics,
    private readonly kv: KvCounters,
  ) {
    const three = ['grpc_type', 'grpc_service', 'grpc_method'];
    this.started = fast.counter('grpc_server_started_total', 'Total number of RPCs started on the server.', three);
    this.handled = fast.counter(
      'grpc_server_handled_total',
      'Total number of RPCs completed on the server, regardless of success or failure.',
      [...three, 'grpc_code'],
    );
    this.seconds = fast.histogram(
      'grpc_server_handling_seconds',
      'Histogram of response latency (seconds) of gRPC that had been application-level handled by the server.',
      [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      three,
    );
    this.requests = fast.counter(
      'strata_requests_total',
      'etcd API requests finished, by service, method, transport (grpc or gateway) and gRPC status code',
      ['service', 'method', 'transport', 'code'],
    );
  }

  private children(transport: Transport, path: string, type: GrpcType): MethodChildren {
    let c = this.bound[transport].get(path);
    if (!c) {
      // Paths are /etcdserverpb.<Service>/<Method>.
      const [, service = '', method = ''] = path.split('/');
      const short = service.slice(service.lastIndexOf('.') + 1);
      const handled: Child[] = [];
      const requests: Child[] = [];
      c = {
        started: this.started.child(type, service, method),
        handledOf: (code) => (handled[code] ??= this.handled.child(type, service, method, CODE_NAMES[code] ?? 'Unknown')),
        requestsOf: (code) => (requests[code] ??= this.requests.child(short, method, transport, String(code))),
        seconds: this.seconds.child(type, service, method),
        kv: service === 'etcdserverpb.KV' ? this.kv[method as keyof KvCounters] : undefined,
      };
      this.bound[transport].set(path, c);
    }
    return c;
  }

  /** A gateway request: counted as the gRPC call etcd's gateway makes for it (no latency: the gateway times itself). */
  observeGateway(service: string, method: string, code: number): void {
    let byMethod = this.paths.get(service);
    if (!byMethod) this.paths.set(service, (byMethod = new Map()));
    let path = byMethod.get(method);
    if (!path) byMethod.set(method, (path = `/etcdserverpb.${service}/${method}`));
    const stream = service === 'Watch' || method === 'LeaseKeepAlive';
    const c = this.children('gateway', path, stream ? 'bidi_stream' : 'unary');
    c.started.inc();
    c.handledOf(code).inc();
    c.requestsOf(code).inc();
    if (code === 0) c.kv?.inc();
  }

  interceptor(): grpc.ServerInterceptor {
    return (descriptor, call) => {
      const type: GrpcType = descriptor.requestStream
        ? descriptor.responseStream
          ? 'bidi_stream'
          : 'client_stream'
        : descriptor.responseStream
          ? 'server_stream'
          : 'unary';
      return new CountedCall(call, this.children('grpc', descriptor.path, type));
    };
  }
}
