/**
 * Message schemas for the JSON gateway, read from the same proto/ files gRPC serves. proto-loader's
 * descriptor objects lose which fields belong to a oneof (every field reports oneofIndex 0), so we
 * decode the serialized FileDescriptorProtos it also carries, where oneof membership is explicit.
 */
import type { PackageDefinition } from '@grpc/proto-loader';

export type Scalar = 'int64' | 'uint64' | 'int32' | 'uint32' | 'bool' | 'string' | 'bytes' | 'double' | 'float';
type FieldKind = { kind: 'scalar'; scalar: Scalar } | { kind: 'enum'; type: string } | { kind: 'message'; type: string };

export interface FieldSchema {
  /** The proto name: what replies use and what wire objects are keyed by. */
  name: string;
  /** protoc's lowerCamel JSON name, also accepted in requests. */
  jsonName: string;
  /** The field number, for the protobuf size of a converted request. */
  number: number;
  repeated: boolean;
  /** A repeated scalar sent as one packed field (proto3's default for numbers, bools and enums). */
  packed: boolean;
  /** The oneof this field belongs to (the virtual field proto-loader sets), if any. */
  oneof?: string;
  type: FieldKind;
}

export interface MessageSchema {
  name: string;
  fields: FieldSchema[];
  byJsonKey: Map<string, FieldSchema>;
}

interface EnumSchema {
  byName: Map<string, number>;
  byNumber: Map<number, string>;
}

export interface Schema {
  messages: Map<string, MessageSchema>;
  enums: Map<string, EnumSchema>;
}

// descriptor.proto field types (FieldDescriptorProto.Type).
const SCALARS: Record<number, Scalar> = {
  1: 'double',
  2: 'float',
  3: 'int64',
  4: 'uint64',
  5: 'int32',
  6: 'uint64',
  7: 'uint32',
  8: 'bool',
  9: 'string',
  12: 'bytes',
  13: 'uint32',
  15: 'int32',
  16: 'int64',
  17: 'int32',
  18: 'int64',
};
const TYPE_STRING = 9;
const TYPE_MESSAGE = 11;
const TYPE_BYTES = 12;
const TYPE_ENUM = 14;
const LABEL_REPEATED = 3;
/** FieldOptions.packed. */
const OPTION_PACKED = 2;

/** Protobuf wire reading, just enough for descriptor messages: (field number → raw values). */
function fieldsOf(buf: Buffer): Map<number, Array<Buffer | number>> {
  const out = new Map<number, Array<Buffer | number>>();
  let pos = 0;
  const varint = (): number => {
    let v = 0;
    let mul = 1;
    for (;;) {
      const byte = buf[pos++];
      v += (byte & 0x7f) * mul;
      if (byte < 0x80) return v;
      mul *= 128;
    }
  };
  while (pos < buf.length) {
    const tag = varint();
    const no = Math.floor(tag / 8);
    let val: Buffer | number;
    switch (tag & 7) {
      case 0:
        val = varint();
        break;
      case 1:
        val = buf.subarray(pos, (pos += 8));
        break;
      case 2: {
        const len = varint();
        val = buf.subarray(pos, (pos += len));
        break;
      }
      case 5:
        val = buf.subarray(pos, (pos += 4));
        break;
      default:
        throw new Error(`unsupported wire type in descriptor: ${tag & 7}`);
    }
    const list = out.get(no);
    if (list) list.push(val);
    else out.set(no, [val]);
  }
  return out;
}

const str = (v: Buffer | number | undefined): string => (v === undefined ? '' : (v as Buffer).toString('utf8'));
const bufs = (m: Map<number, Array<Buffer | number>>, no: number): Buffer[] => (m.get(no) ?? []) as Buffer[];

/** protoc's default JSON name: underscores dropped, the following letter upper-cased. */
function lowerCamel(name: string): string {
  return name.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}

interface RawField {
  name: string;
  number: number;
  label: number;
  type: number;
  typeName: string;
  jsonName: string;
  /** An explicit [packed = …] option, if any. */
  packed?: boolean;
  oneof?: string;
}

type Pending = Array<{ msg: MessageSchema; raw: RawField[]; scope: string }>;

function readEnum(buf: Buffer, scope: string, schema: Schema): void {
  const e = fieldsOf(buf);
  const full = `${scope}.${str(e.get(1)?.[0])}`;
  const en: EnumSchema = { byName: new Map(), byNumber: new Map() };
  for (const v of bufs(e, 2)) {
    const f = fieldsOf(v);
    const name = str(f.get(1)?.[0]);
    // Numbers are int32; negatives arrive as 64-bit varints (none in etcd's enums are negative).
    const num = (f.get(2)?.[0] as number | undefined) ?? 0;
    en.byName.set(name, num);
    if (!en.byNumber.has(num)) en.byNumber.set(num, name);
  }
  schema.enums.set(full, en);
}

function readMessage(buf: Buffer, scope: string, schema: Schema, pending: Pending): void {
  const m = fieldsOf(buf);
  const full = `${scope}.${str(m.get(1)?.[0])}`;
  const oneofs = bufs(m, 8).map((o) => str(fieldsOf(o).get(1)?.[0]));
  const raw: RawField[] = bufs(m, 2).map((fb) => {
    const f = fieldsOf(fb);
    const name = str(f.get(1)?.[0]);
    const oneofIndex = f.get(9)?.[0] as number | undefined;
    const options = f.get(8)?.[0] as Buffer | undefined;
    const packed = options ? (fieldsOf(options).get(OPTION_PACKED)?.[0] as number | undefined) : undefined;
    return {
      name,
      number: (f.get(3)?.[0] as number | undefined) ?? 0,
      packed: packed === undefined ? undefined : packed !== 0,
      label: (f.get(4)?.[0] as number | undefined) ?? 1,
      type: (f.get(5)?.[0] as number | undefined) ?? 0,
      typeName: str(f.get(6)?.[0]),
      jsonName: str(f.get(10)?.[0]) || lowerCamel(name),
      oneof: oneofIndex === undefined ? undefined : oneofs[oneofIndex],
    };
  });
  const msg: MessageSchema = { name: full, fields: [], byJsonKey: new Map() };
  schema.messages.set(full, msg);
  pending.push({ msg, raw, scope: full });
  for (const n of bufs(m, 3)) readMessage(n, full, schema, pending);
  for (const n of bufs(m, 4)) readEnum(n, full, schema);
}

/** Resolves a type name as protoc does: relative names are searched from the innermost scope out. */
function resolve(typeName: string, scope: string, known: (n: string) => boolean): string {
  if (typeName.startsWith('.')) return typeName.slice(1);
  const parts = scope.split('.');
  for (let i = parts.length; i >= 0; i--) {
    const candidate = [...parts.slice(0, i), typeName].join('.');
    if (known(candidate)) return candidate;
  }
  throw new Error(`gateway schema: cannot resolve type ${typeName} from ${scope}`);
}

export function buildSchema(pkg: PackageDefinition): Schema {
  const schema: Schema = { messages: new Map(), enums: new Map() };
  const files = new Map<string, Buffer>();
  for (const def of Object.values(pkg)) {
    const protos = (def as { fileDescriptorProtos?: Buffer[] }).fileDescriptorProtos;
    for (const p of protos ?? []) files.set(p.toString('base64'), p);
  }
  const pending: Pending = [];
  for (const file of files.values()) {
    const f = fieldsOf(file);
    const pkgName = str(f.get(2)?.[0]);
    for (const m of bufs(f, 4)) readMessage(m, pkgName, schema, pending);
    for (const e of bufs(f, 5)) readEnum(e, pkgName, schema);
  }
  for (const { msg, raw, scope } of pending) {
    for (const r of raw) {
      let type: FieldKind;
      if (r.type === TYPE_MESSAGE) type = { kind: 'message', type: resolve(r.typeName, scope, (n) => schema.messages.has(n)) };
      else if (r.type === TYPE_ENUM) type = { kind: 'enum', type: resolve(r.typeName, scope, (n) => schema.enums.has(n)) };
      else if (SCALARS[r.type]) type = { kind: 'scalar', scalar: SCALARS[r.type] };
      else throw new Error(`gateway schema: unsupported field type ${r.type} (${msg.name}.${r.name})`);
      const repeated = r.label === LABEL_REPEATED;
      const packable = r.type !== TYPE_STRING && r.type !== TYPE_MESSAGE && r.type !== TYPE_BYTES;
      const packed = repeated && packable && (r.packed ?? true);
      const field: FieldSchema = { name: r.name, jsonName: r.jsonName, number: r.number, repeated, packed, type };
      if (r.oneof) field.oneof = r.oneof;
      msg.fields.push(field);
      msg.byJsonKey.set(r.name, field);
      msg.byJsonKey.set(r.jsonName, field);
    }
  }
  return schema;
}
