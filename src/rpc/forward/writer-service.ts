/**
 * The elected writer's side: writes other instances forwarded, run here with the caller's own
 * credentials (so permissions are judged as if the client had come here), answered with the
 * response or the etcd error. A caller without the shared secret is refused before its message is
 * read; an instance that does not hold the lease runs nothing and says so.
 */
import * as grpc from '@grpc/grpc-js';
import type { Logger } from 'pino';
import { Code, EtcdError, Errors } from '../../errors';
import type { Store } from '../../mvcc/store';
import type { WriterElection } from './election';
import type { RoutedWrites, WriteOp } from '../../mvcc/write-route';
import { decodeWrite, encodeAnswer, frame, presentsSecret, unframe, WRITER_SERVICE, type ForwardAnswer } from './wire';

export interface WriterService {
  definition: grpc.ServiceDefinition;
  implementation: grpc.UntypedServiceImplementation;
}

const ok = (res: RoutedWrites[WriteOp]['res']): ForwardAnswer => ({ kind: 'ok', res });

function failed(e: unknown, log: Logger): ForwardAnswer {
  const err = e instanceof EtcdError ? e : Errors.internal(`forwarded write failed: ${(e as Error)?.message ?? String(e)}`);
  if (!(e instanceof EtcdError)) log.error({ err: e }, 'forwarded write failed');
  return { kind: 'error', code: err.code as Code, message: err.message };
}

export function writerService(store: Store, election: WriterElection, secret: string, log: Logger): WriterService {
  const write: grpc.handleUnaryCall<Buffer, Buffer> = (call, callback) => {
    if (!presentsSecret(call.metadata, secret)) {
      callback({ code: grpc.status.PERMISSION_DENIED, details: 'strata: forwarded write refused' });
      return;
    }
    if (!election.isWriter()) {
      callback(null, frame([encodeAnswer({ kind: 'not-writer' })]));
      return;
    }
    let writes;
    try {
      writes = unframe(call.request).map(decodeWrite);
    } catch {
      callback({ code: grpc.status.INVALID_ARGUMENT, details: 'strata: malformed forwarded write' });
      return;
    }
    // All are queued at once, so they share the writer's next batch; the answer waits for the last.
    void Promise.all(writes.map((w) => store.commitHere(w).then(ok, (e: unknown) => failed(e, log)))).then((answers) =>
      callback(null, frame(answers.map(encodeAnswer))),
    );
  };
  return { definition: WRITER_SERVICE, implementation: { Write: write } };
}
