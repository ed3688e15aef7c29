/**
 * JSON values to the scalars of etcd's messages (jsonpb's rules, Go's error wording), each with the
 * size its protobuf encoding takes after the field's tag.
 */
import { Errors } from '../../errors';
import { JsonNumber, type JsonValue } from './json';
import type { Scalar } from './schema';
import { varintSize } from '../../protobuf-writer';
import { int32Size, int64Size } from './wire-size';

/** Request JSON that does not fit the message: etcd's gateway answers InvalidArgument. */
export const bad = (message: string) => Errors.badRequest(message);

const LIMITS: Partial<Record<Scalar, [bigint, bigint]>> = {
  int64: [-(2n ** 63n), 2n ** 63n - 1n],
  uint64: [0n, 2n ** 64n - 1n],
  int32: [-(2n ** 31n), 2n ** 31n - 1n],
  uint32: [0n, 2n ** 32n - 1n],
};
const INTEGER = /^-?(?:0|[1-9]\d*)$/;

export function jsonKind(v: JsonValue): string {
  if (v instanceof JsonNumber) return `number ${v.raw}`;
  if (typeof v === 'string') return 'string';
  if (typeof v === 'boolean') return 'bool';
  if (Array.isArray(v)) return 'array';
  return 'object';
}

export function integer(v: JsonValue, s: Scalar): bigint {
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

const STD_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

/**
 * Go's base64.Encoding.Decode (padding required, CR and LF skipped): the offset of the first bad
 * byte, or undefined when `s` decodes. Its error offsets are what etcd's gateway reports.
 */
function goBase64Error(s: string): number | undefined {
  const skipNewlines = (i: number) => {
    while (i < s.length && (s[i] === '\n' || s[i] === '\r')) i++;
    return i;
  };
  let si = 0;
  while (si < s.length) {
    for (let j = 0; j < 4; j++) {
      if (si === s.length) {
        if (j === 0) return undefined;
        return si - j;
      }
      const c = s[si++];
      if (STD_ALPHABET.includes(c)) continue;
      if (c === '\n' || c === '\r') {
        j--;
        continue;
      }
      if (c !== '=' || j < 2) return si - 1;
      if (j === 2) {
        si = skipNewlines(si);
        if (si === s.length) return s.length;
        if (s[si] !== '=') return si - 1;
        si++;
      }
      si = skipNewlines(si);
      return si < s.length ? si : undefined;
    }
  }
  return undefined;
}

/**
 * Bytes as etcd's gateway decodes them (Go's base64.StdEncoding): the standard alphabet only, with
 * padding; a bad character is reported by offset.
 */
function base64(v: JsonValue): Buffer {
  if (typeof v !== 'string') throw bad(`json: cannot unmarshal ${jsonKind(v)} into Go value of type []byte`);
  const at = goBase64Error(v);
  if (at !== undefined) throw bad(`illegal base64 data at input byte ${at}`);
  return Buffer.from(v.replace(/[\r\n]/g, ''), 'base64');
}

/** A converted value and its protobuf payload size (after the tag); `zero` values are left off the wire. */
export interface Converted {
  value: unknown;
  size: number;
  zero: boolean;
}

export const lengthPrefixed = (length: number): number => varintSize(length) + length;

export function scalarIn(v: JsonValue, s: Scalar): Converted {
  switch (s) {
    case 'int64':
    case 'uint64': {
      const n = integer(v, s);
      return { value: n.toString(), size: int64Size(n), zero: n === 0n };
    }
    case 'int32':
    case 'uint32': {
      const n = Number(integer(v, s));
      return { value: n, size: int32Size(n), zero: n === 0 };
    }
    case 'double':
    case 'float': {
      const raw = v instanceof JsonNumber ? v.raw : typeof v === 'string' ? v : '';
      const n = Number(raw);
      if (raw === '' || Number.isNaN(n)) throw bad(`json: cannot unmarshal ${jsonKind(v)} into Go value of type float64`);
      // proto3 leaves out +0 only: -0 has bits set.
      return { value: n, size: s === 'double' ? 8 : 4, zero: Object.is(n, 0) };
    }
    case 'bool':
      if (typeof v !== 'boolean') throw bad(`json: cannot unmarshal ${jsonKind(v)} into Go value of type bool`);
      return { value: v, size: 1, zero: !v };
    case 'string':
      if (typeof v !== 'string') throw bad(`json: cannot unmarshal ${jsonKind(v)} into Go value of type string`);
      return { value: v, size: lengthPrefixed(Buffer.byteLength(v, 'utf8')), zero: v === '' };
    case 'bytes': {
      const b = base64(v);
      return { value: b, size: lengthPrefixed(b.length), zero: b.length === 0 };
    }
  }
}
