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
import { decodeWrite, encodeAnswer, presentsSecret, WRITER_SERVICE, type ForwardAnswer } from './wire';

export interface WriterService {
  definition: grpc.ServiceDefinition;
  implementation: grpc.UntypedServiceImplementation;
}

export function writerService(store: Store, election: WriterElection, secret: string, log: Logger): WriterService {
  const write: grpc.handleUnaryCall<Buffer, Buffer> = (call, callback) => {
    if (!presentsSecret(call.metadata, secret)) {
      callback({ code: grpc.status.PERMISSION_DENIED, details: 'strata: forwarded write refused' });
      return;
    }
    if (!election.isWriter()) {
      callback(null, encodeAnswer({ kind: 'not-writer' }));
      return;
    }
    const answer = (a: ForwardAnswer): void => callback(null, encodeAnswer(a));
    let w;
    try {
      w = decodeWrite(call.request);
    } catch {
      callback({ code: grpc.status.INVALID_ARGUMENT, details: 'strata: malformed forwarded write' });
      return;
    }
    store.commitHere(w).then(
      (res) => answer({ kind: 'ok', res }),
      (e: unknown) => {
        const err = e instanceof EtcdError ? e : Errors.internal(`forwarded write failed: ${(e as Error)?.message ?? String(e)}`);
        if (!(e instanceof EtcdError)) log.error({ err: e }, 'forwarded write failed');
        answer({ kind: 'error', code: err.code as Code, message: err.message });
      },
    );
  };
  return { definition: WRITER_SERVICE, implementation: { Write: write } };
}
