/**
 * The internal service writes are forwarded through: one unary method carrying every write an
 * instance had waiting at that moment (one call, not one per write: the hop costs per call), each
 * one the mvcc request value itself (V8's serializer keeps Buffers, bigints and nested shapes
 * exactly), so nothing is decoded or encoded twice and the writer runs the very request the client
 * sent; the answer holds one result per write, in order. Only instances that share the database know the secret: it is derived from the
 * database's own random token secret, travels in call metadata, and is never logged.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { deserialize, serialize } from 'node:v8';
import type * as grpc from '@grpc/grpc-js';
import type { Code } from '../../errors';
import type { RoutedWrite, RoutedWrites, WriteOp } from '../../mvcc/write-route';

export const FORWARD_PATH = '/strata.internal.Writer/Write';
export const SECRET_HEADER = 'strata-forward-secret';

/** What the writer answers: its response, an etcd error, or that it is not the writer (nothing was run). */
export type ForwardAnswer =
  { kind: 'ok'; res: RoutedWrites[WriteOp]['res'] } | { kind: 'error'; code: Code; message: string } | { kind: 'not-writer' };

const identity = (b: Buffer): Buffer => b;

export const WRITER_SERVICE: grpc.ServiceDefinition = {
  Write: {
    path: FORWARD_PATH,
    requestStream: false,
    responseStream: false,
    requestSerialize: identity,
    requestDeserialize: identity,
    responseSerialize: identity,
    responseDeserialize: identity,
    originalName: 'Write',
  },
};

/** A write as it travels: its deadline as the time left (the two machines' clocks need not agree). */
type Travelling = Omit<RoutedWrite, 'deadline'> & { leftMs?: number };

export function encodeWrite(w: RoutedWrite): Buffer {
  const { deadline, ...rest } = w;
  return serialize(deadline === undefined ? rest : { ...rest, leftMs: deadline - Date.now() });
}

export function decodeWrite(b: Buffer): RoutedWrite {
  const { leftMs, ...rest } = deserialize(b) as Travelling;
  return (leftMs === undefined ? rest : { ...rest, deadline: Date.now() + leftMs }) as RoutedWrite;
}
export const encodeAnswer = (a: ForwardAnswer): Buffer => serialize(a);
export const decodeAnswer = (b: Buffer): ForwardAnswer => deserialize(b) as ForwardAnswer;

/** Several encoded messages as one: each behind its length (4 bytes, big-endian). */
export function frame(parts: readonly Buffer[]): Buffer {
  const out: Buffer[] = [];
  for (const p of parts) {
    const len = Buffer.allocUnsafe(4);
    len.writeUInt32BE(p.length);
    out.push(len, p);
  }
  return Buffer.concat(out);
}

/** The messages of one `frame`; throws on a truncated one. */
export function unframe(b: Buffer): Buffer[] {
  const parts: Buffer[] = [];
  for (let at = 0; at < b.length;) {
    if (at + 4 > b.length) throw new Error('truncated frame');
    const len = b.readUInt32BE(at);
    if (at + 4 + len > b.length) throw new Error('truncated frame');
    parts.push(b.subarray(at + 4, at + 4 + len));
    at += 4 + len;
  }
  return parts;
}

/** The shared secret of the instances on one database, from its token secret (a separate key for a separate use). */
export function forwardSecret(databaseSecret: Buffer): string {
  return createHmac('sha256', databaseSecret).update('strata: forwarded writes').digest('hex');
}

/** Whether a call's metadata carries `secret` (compared in constant time). */
export function presentsSecret(metadata: grpc.Metadata, secret: string): boolean {
  const got = metadata.get(SECRET_HEADER)[0];
  if (typeof got !== 'string' || got.length !== secret.length) return false;
  return timingSafeEqual(Buffer.from(got), Buffer.from(secret));
}
