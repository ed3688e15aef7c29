/** etcd's KV service over gRPC: decode, check, call the store, encode. */
import type * as grpc from '@grpc/grpc-js';
import { decodeDeleteRange, decodePut, decodeRange, decodeTxn, encodeDeleteRange, encodePut, encodeRange, encodeTxn, header } from './codec';
import { serviceFromCalls } from './calls';
import type { RpcContext } from './context';
import { requestSize, type Wire } from './proto';
import { checkDeleteRange, checkPut, checkRange, checkSize, checkTxn } from './validate';

/** The KV calls, protocol-neutral over wire objects: the gRPC service and the gateway share them. */
export function kvCalls(ctx: RpcContext) {
  const { store, limits, identity } = ctx;
  return {
    Range: async (w: Wire) => {
      const req = decodeRange(w);
      checkRange(req);
      return encodeRange(await store.range(req), identity);
    },
    Put: async (w: Wire) => {
      const req = decodePut(w);
      checkPut(req);
      checkSize(requestSize(w), limits);
      return encodePut(await store.put(req), identity);
    },
    DeleteRange: async (w: Wire) => {
      const req = decodeDeleteRange(w);
      checkDeleteRange(req);
      checkSize(requestSize(w), limits);
      return encodeDeleteRange(await store.deleteRange(req), identity);
    },
    Txn: async (w: Wire) => {
      const req = decodeTxn(w);
      checkTxn(req, limits);
      checkSize(requestSize(w), limits);
      return encodeTxn(await store.txn(req), identity);
    },
    Compact: async (w: Wire) => {
      const res = await store.compact({ revision: Number(w.revision ?? 0), physical: !!w.physical });
      return { header: header(identity, res.header) };
    },
  };
}

export function kvService(ctx: RpcContext): grpc.UntypedServiceImplementation {
  return serviceFromCalls(ctx, kvCalls(ctx));
}
