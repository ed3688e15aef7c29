/**
 * JSON ⇄ etcd's messages, as etcd 3.5's grpc-gateway (jsonpb, OrigName) does it.
 * In: proto or lowerCamel names; int64 as string or number; enums by name or number; bytes base64;
 * unknown fields ignored; the result is shaped as proto-loader decodes gRPC (int64 strings, enum
 * numbers, Buffers, defaults filled, the oneof's virtual field set), so the methods cannot tell the
 * two front-ends apart, and comes with the size its protobuf encoding would have (canonical proto3,
 * as a Go client sends it: zero values, empty bytes and empty repeated fields take nothing; a set
 * oneof member and a present sub-message always count).
 * Out: proto names, int64 as strings, enums by name, bytes base64, zero values left out.
 */
import { Errors } from '../../errors';
import { PROTO_RECURSION_LIMIT } from '../proto';
import type { JsonValue } from './json';
import { bad, integer, jsonKind, lengthPrefixed, scalarIn, type Converted } from './scalar-in';
import type { FieldSchema, MessageSchema, Schema } from './schema';
import { int32Size, tagSize } from './wire-size';

function defaultOf(f: FieldSchema): unknown {
  if (f.repeated) return [];
  if (f.type.kind === 'message') return null;
  if (f.type.kind === 'enum') return 0;
  switch (f.type.scalar) {
    case 'int64':
    case 'uint64':
      return '0';
    case 'bool':
      return false;
    case 'string':
      return '';
    case 'bytes':
      return Buffer.alloc(0);
    default:
      return 0;
  }
}

/** The size one field takes on the wire, from its converted value(s). */
function fieldSize(f: FieldSchema, values: Converted[]): number {
  const tag = tagSize(f.number);
  if (!f.repeated) {
    const [c] = values;
    // A set oneof member is sent even when zero; a sub-message whenever present.
    return c.zero && !f.oneof && f.type.kind !== 'message' ? 0 : tag + c.size;
  }
  if (values.length === 0) return 0;
  let sum = 0;
  for (const c of values) sum += c.size;
  return f.packed ? tag + lengthPrefixed(sum) : values.length * tag + sum;
}

/** A message while it is converted: proto field names to values (the converter's own dynamic form). */
type Dynamic = Record<string, unknown>;

/** A JSON object key → value map is what Go's decoder calls map[string]json.RawMessage. */
const notObject = (v: JsonValue) => bad(`json: cannot unmarshal ${jsonKind(v)} into Go value of type map[string]json.RawMessage`);

export class Converter {
  constructor(private readonly schema: Schema) {}

  private message(name: string): MessageSchema {
    const m = this.schema.messages.get(name);
    if (!m) throw new Error(`gateway: unknown message ${name}`);
    return m;
  }

  /**
   * A request body (already parsed; undefined for an empty body) → the message `type` names, as
   * proto-loader would have decoded it, and the size of its protobuf encoding. T is that message's
   * type: the schema, read from the same protos, guarantees the shape.
   */
  fromJson<T>(type: string, body: JsonValue | undefined): { message: T; size: number } {
    if (body !== undefined && body !== null && !(body instanceof Map)) throw notObject(body);
    const { value, size } = this.objectIn(this.message(type), body ?? new Map(), 0);
    return { message: value as T, size };
  }

  /** A JSON object → the message and its own encoded size. */
  private objectIn(m: MessageSchema, obj: Map<string, JsonValue>, depth: number): { value: Dynamic; size: number } {
    // As deep as gRPC decodes (proto.ts); only txns nest, and that deep they are past etcd's op limit.
    if (depth > PROTO_RECURSION_LIMIT) throw Errors.tooManyOps();
    const out: Dynamic = {};
    const sizes = new Map<string, number>();
    for (const f of m.fields) if (!f.oneof) out[f.name] = defaultOf(f);
    for (const [key, v] of obj) {
      const f = m.byJsonKey.get(key);
      if (!f || v === null) continue; // unknown fields are ignored; null means "not set"
      let values: Converted[];
      if (f.repeated) {
        if (!Array.isArray(v)) throw bad(`json: cannot unmarshal ${jsonKind(v)} into Go value of type []json.RawMessage`);
        values = v.map((x) => this.valueIn(f, x, depth));
        out[f.name] = values.map((c) => c.value);
      } else {
        values = [this.valueIn(f, v, depth)];
        out[f.name] = values[0].value;
      }
      sizes.set(f.name, fieldSize(f, values));
      if (f.oneof) out[f.oneof] = f.name;
    }
    let size = 0;
    for (const f of m.fields) {
      // Of a oneof, only the member named last is sent.
      if (f.oneof && out[f.oneof] !== f.name) continue;
      size += sizes.get(f.name) ?? 0;
    }
    return { value: out, size };
  }

  private valueIn(f: FieldSchema, v: JsonValue, depth: number): Converted {
    switch (f.type.kind) {
      case 'scalar':
        return scalarIn(v, f.type.scalar);
      case 'message': {
        if (!(v instanceof Map)) throw notObject(v);
        const { value, size } = this.objectIn(this.message(f.type.type), v, depth + 1);
        return { value, size: lengthPrefixed(size), zero: false };
      }
      case 'enum': {
        let n: number;
        if (typeof v === 'string') {
          const named = this.schema.enums.get(f.type.type)?.byName.get(v);
          if (named === undefined) throw bad(`unknown value "${v}" for enum ${f.type.type}`);
          n = named;
        } else {
          n = Number(integer(v, 'int32'));
        }
        return { value: n, size: int32Size(n), zero: n === 0 };
      }
    }
  }

  /** A response message (as the codec encodes it) → a JSON-ready object. */
  toJson(type: string, msg: object): Dynamic {
    const m = this.message(type);
    const out: Dynamic = {};
    for (const f of m.fields) {
      const v: unknown = Reflect.get(msg, f.name);
      if (v === undefined || v === null) continue;
      if (f.repeated) {
        if (Array.isArray(v) && v.length > 0) out[f.name] = v.map((x: unknown) => this.valueOut(f, x));
        continue;
      }
      // jsonpb writes a set oneof member even when its value is zero.
      if (!f.oneof && f.type.kind !== 'message' && isZero(v)) continue;
      out[f.name] = this.valueOut(f, v);
    }
    return out;
  }

  private valueOut(f: FieldSchema, v: unknown): unknown {
    switch (f.type.kind) {
      case 'message':
        return typeof v === 'object' && v !== null ? this.toJson(f.type.type, v) : {};
      case 'enum': {
        if (typeof v === 'string') return v;
        return this.schema.enums.get(f.type.type)?.byNumber.get(Number(v)) ?? Number(v);
      }
      case 'scalar':
        switch (f.type.scalar) {
          case 'int64':
          case 'uint64':
            return String(v);
          case 'bytes':
            return (v instanceof Uint8Array ? Buffer.from(v.buffer, v.byteOffset, v.length) : Buffer.from(String(v))).toString('base64');
          case 'int32':
          case 'uint32':
          case 'double':
          case 'float':
            return Number(v);
          default:
            return v;
        }
    }
  }
}

function isZero(v: unknown): boolean {
  if (v === false || v === 0 || v === '' || v === '0' || v === 0n) return true;
  if (v instanceof Uint8Array) return v.length === 0;
  return false;
}
