/**
 * JSON ⇄ wire objects, as etcd 3.5's grpc-gateway (jsonpb, OrigName) does it.
 * In: proto or lowerCamel names; int64 as string or number; enums by name or number; bytes base64;
 * unknown fields ignored; the result is shaped as proto-loader decodes gRPC (int64 strings, enum
 * numbers, Buffers, defaults filled, the oneof's virtual field set), so the service code cannot
 * tell the two front-ends apart.
 * Out: proto names, int64 as strings, enums by name, bytes base64, zero values left out.
 */
import { Errors } from '../../errors';
import type { Wire } from '../proto';
import { JsonNumber, type JsonValue } from './json';
import type { FieldSchema, MessageSchema, Scalar, Schema } from './schema';

/** Request JSON that does not fit the message: etcd's gateway answers InvalidArgument. */
const bad = (message: string) => Errors.badRequest(message);

const LIMITS: Partial<Record<Scalar, [bigint, bigint]>> = {
  int64: [-(2n ** 63n), 2n ** 63n - 1n],
  uint64: [0n, 2n ** 64n - 1n],
  int32: [-(2n ** 31n), 2n ** 31n - 1n],
  uint32: [0n, 2n ** 32n - 1n],
};
const INTEGER = /^-?(?:0|[1-9]\d*)$/;
const STD64 = /^[A-Za-z0-9+/]*={0,2}$/;
const URL64 = /^[A-Za-z0-9_-]*={0,2}$/;

function goType(s: Scalar): string {
  return s === 'bytes' ? '[]byte' : s;
}

function jsonKind(v: JsonValue): string {
  if (v instanceof JsonNumber) return `number ${v.raw}`;
  if (typeof v === 'string') return 'string';
  if (typeof v === 'boolean') return 'bool';
  if (Array.isArray(v)) return 'array';
  return 'object';
}

function integer(v: JsonValue, s: Scalar): bigint {
  // jsonpb takes a quoted integer as the number inside the quotes.
  const raw = v instanceof JsonNumber ? v.raw : typeof v === 'string' ? v : undefined;
  if (raw === undefined || !INTEGER.test(raw)) {
    throw bad(`json: cannot unmarshal ${typeof v === 'string' ? `number ${v}` : jsonKind(v)} into Go value of type ${s}`);
  }
  const n = BigInt(raw);
  const [lo, hi] = LIMITS[s] ?? [0n, 0n];
  if (n < lo || n > hi) throw bad(`json: cannot unmarshal number ${raw} into Go value of type ${s}`);
  return n;
}

/** Go's base64: the standard alphabet, else the URL-safe one; a bad character is reported by offset. */
function base64(v: JsonValue): Buffer {
  if (typeof v !== 'string') throw bad(`json: cannot unmarshal ${jsonKind(v)} into Go value of type []byte`);
  const ok = (STD64.test(v) || URL64.test(v)) && v.length % 4 !== 1;
  if (!ok) {
    const at = [...v].findIndex((c) => !/[A-Za-z0-9+/=_-]/.test(c));
    throw bad(`illegal base64 data at input byte ${at < 0 ? v.length : at}`);
  }
  return Buffer.from(v, STD64.test(v) ? 'base64' : 'base64url');
}

function scalarIn(v: JsonValue, s: Scalar): unknown {
  switch (s) {
    case 'int64':
    case 'uint64':
      return integer(v, s).toString();
    case 'int32':
    case 'uint32':
      return Number(integer(v, s));
    case 'double':
    case 'float': {
      const raw = v instanceof JsonNumber ? v.raw : typeof v === 'string' ? v : '';
      const n = Number(raw);
      if (raw === '' || Number.isNaN(n)) throw bad(`json: cannot unmarshal ${jsonKind(v)} into Go value of type float64`);
      return n;
    }
    case 'bool':
      if (typeof v !== 'boolean') throw bad(`json: cannot unmarshal ${jsonKind(v)} into Go value of type bool`);
      return v;
    case 'string':
      if (typeof v !== 'string') throw bad(`json: cannot unmarshal ${jsonKind(v)} into Go value of type string`);
      return v;
    case 'bytes':
      return base64(v);
  }
}

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

export class Converter {
  constructor(private readonly schema: Schema) {}

  private message(name: string): MessageSchema {
    const m = this.schema.messages.get(name);
    if (!m) throw new Error(`gateway: unknown message ${name}`);
    return m;
  }

  /** A request body (already parsed; undefined for an empty body) → wire object. */
  fromJson(type: string, body: JsonValue | undefined): Wire {
    if (body === undefined || body === null) return this.objectIn(this.message(type), new Map());
    if (!(body instanceof Map)) throw bad(`json: cannot unmarshal ${jsonKind(body)} into Go value of type map[string]json.RawMessage`);
    return this.objectIn(this.message(type), body);
  }

  private objectIn(m: MessageSchema, obj: Map<string, JsonValue>): Wire {
    const out: Wire = {};
    for (const f of m.fields) if (!f.oneof) out[f.name] = defaultOf(f);
    for (const [key, v] of obj) {
      const f = m.byJsonKey.get(key);
      if (!f || v === null) continue; // unknown fields are ignored; null means "not set"
      out[f.name] = this.fieldIn(f, v);
      if (f.oneof) out[f.oneof] = f.name;
    }
    return out;
  }

  private fieldIn(f: FieldSchema, v: JsonValue): unknown {
    if (!f.repeated) return this.valueIn(f, v);
    if (!Array.isArray(v)) throw bad(`json: cannot unmarshal ${jsonKind(v)} into Go value of type []json.RawMessage`);
    return v.map((x) => this.valueIn(f, x));
  }

  private valueIn(f: FieldSchema, v: JsonValue): unknown {
    switch (f.type.kind) {
      case 'scalar':
        return scalarIn(v, f.type.scalar);
      case 'message':
        if (!(v instanceof Map)) throw bad(`json: cannot unmarshal ${jsonKind(v)} into Go value of type map[string]json.RawMessage`);
        return this.objectIn(this.message(f.type.type), v);
      case 'enum': {
        const en = this.schema.enums.get(f.type.type);
        if (typeof v === 'string') {
          const n = en?.byName.get(v);
          if (n === undefined) throw bad(`unknown value "${v}" for enum ${f.type.type}`);
          return n;
        }
        return Number(integer(v, 'int32'));
      }
    }
  }

  /** A wire object (as the service code returns it) → a JSON-ready object. */
  toJson(type: string, w: Wire): Record<string, unknown> {
    const m = this.message(type);
    const out: Record<string, unknown> = {};
    for (const f of m.fields) {
      const v = w[f.name];
      if (v === undefined || v === null) continue;
      if (f.repeated) {
        const arr = v as unknown[];
        if (arr.length > 0) out[f.name] = arr.map((x) => this.valueOut(f, x));
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
        return this.toJson(f.type.type, v as Wire);
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
            return Buffer.from(v as Uint8Array).toString('base64');
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
