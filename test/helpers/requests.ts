/**
 * mvcc requests built the way the server builds them: a partial message (proto field names, any
 * field left out takes its default) is encoded and decoded by the same protobufjs definitions the
 * gRPC service uses, then decoded by the rpc codec. Tests name only the fields they care about.
 */
import type * as grpc from '@grpc/grpc-js';
import type { DeleteRangeRequest, PutRequest, RangeRequest } from '../../src/mvcc/types';
import { decodeDeleteRange, decodePut, decodeRange } from '../../src/rpc/codec/kv';
import type * as pb from '../../src/rpc/messages';
import { serviceDefinition } from '../../src/rpc/proto';
import type { DeleteRangeRequest as DeleteRangeIn } from '../../src/rpc/proto-types/etcdserverpb/DeleteRangeRequest';
import type { PutRequest as PutIn } from '../../src/rpc/proto-types/etcdserverpb/PutRequest';
import type { RangeRequest as RangeIn } from '../../src/rpc/proto-types/etcdserverpb/RangeRequest';

const kv = serviceDefinition('KV');

/** A message through the service's own serializer and deserializer, as it arrives from a client. */
function received<T>(method: grpc.MethodDefinition<unknown, unknown>, m: object): T {
  return method.requestDeserialize(method.requestSerialize(m)) as T;
}

export const rangeRequest = (m: RangeIn): RangeRequest => decodeRange(received<pb.RangeRequest>(kv.Range, m));
export const putRequest = (m: PutIn): PutRequest => decodePut(received<pb.PutRequest>(kv.Put, m));
export const deleteRangeRequest = (m: DeleteRangeIn): DeleteRangeRequest =>
  decodeDeleteRange(received<pb.DeleteRangeRequest>(kv.DeleteRange, m));
