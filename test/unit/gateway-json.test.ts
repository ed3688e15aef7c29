/**
 * The gateway's JSON reader: request bodies as sequences of values arriving in chunks, numbers
 * kept as their source text, and errors in the words of Go's encoding/json (what etcd's gateway
 * reports).
 */
import { describe, expect, it } from 'vitest';
import {
  JsonIncomplete,
  JsonNumber,
  JsonSequence,
  JsonSyntaxError,
  MAX_JSON_DEPTH,
  parseJsonBody,
  type JsonValue,
} from '../../src/rpc/gateway/json';

/** Feeds the chunks one by one and collects every value complete after each, then at the end. */
function readAll(chunks: Array<string | Buffer>): JsonValue[] {
  const seq = new JsonSequence();
  const out: JsonValue[] = [];
  for (const c of chunks) {
    seq.push(typeof c === 'string' ? Buffer.from(c, 'utf8') : c);
    for (let v = seq.next(false); v !== undefined; v = seq.next(false)) out.push(v);
  }
  for (let v = seq.next(true); v !== undefined; v = seq.next(true)) out.push(v);
  return out;
}

const syntaxError = (text: string): string => {
  try {
    parseJsonBody(text);
  } catch (e) {
    expect(e).toBeInstanceOf(JsonSyntaxError);
    return (e as Error).message;
  }
  throw new Error(`no error for ${text}`);
};

const n = (raw: string) => new JsonNumber(raw);
const obj = (...entries: Array<[string, JsonValue]>) => new Map(entries);

describe('JsonSequence', () => {
  it('reads several values from one chunk, separated or not', () => {
    expect(readAll(['{"a":1}{"b":[true,false,null]}\n {"c":"x"}'])).toEqual([
      obj(['a', n('1')]),
      obj(['b', [true, false, null]]),
      obj(['c', 'x']),
    ]);
  });

  it('reads a value split anywhere across chunks', () => {
    const text = '{"create_request":{"key":"YQ==","start_revision":"12","filters":[0,1]}}';
    const whole = readAll([text]);
    for (let cut = 1; cut < text.length; cut++) {
      expect(readAll([text.slice(0, cut), text.slice(cut)])).toEqual(whole);
    }
    expect(readAll(text.split(''))).toEqual(whole);
  });

  it('holds a number at the end of a chunk until something follows it, or the body ends', () => {
    const seq = new JsonSequence();
    seq.push(Buffer.from('{"ID":12'));
    expect(seq.next(false)).toBeUndefined();
    seq.push(Buffer.from('34}'));
    expect(seq.next(false)).toEqual(obj(['ID', n('1234')]));

    const top = new JsonSequence();
    top.push(Buffer.from('7587869000143409018'));
    expect(top.next(false)).toBeUndefined();
    expect(top.pending).toBe(19);
    expect(top.next(true)).toEqual(n('7587869000143409018'));
    expect(top.next(true)).toBeUndefined();
  });

  it('keeps every digit and the exact text of numbers', () => {
    expect(parseJsonBody('[18446744073709551615, -9223372036854775808, 1.5e3, 0]')).toEqual([
      n('18446744073709551615'),
      n('-9223372036854775808'),
      n('1.5e3'),
      n('0'),
    ]);
  });

  it('decodes escapes, \\u escapes and surrogate pairs, and UTF-8 split between chunks', () => {
    expect(parseJsonBody('"a\\"b\\\\c\\/d\\b\\f\\n\\r\\t"')).toBe('a"b\\c/d\b\f\n\r\t');
    expect(parseJsonBody('"\\u00e9\\u4e2d\\ud83d\\ude00"')).toBe('é中😀');
    const bytes = Buffer.from('"é😀"', 'utf8');
    expect(readAll([bytes.subarray(0, 2), bytes.subarray(2, 5), bytes.subarray(5)])).toEqual(['é😀']);
  });

  it('reports an unfinished value at the end of the body as unexpected EOF', () => {
    for (const text of ['{"a":', '{"a":1', '[1,', '"abc', '{"a"']) {
      expect(() => parseJsonBody(text)).toThrow(JsonIncomplete);
      expect(() => parseJsonBody(text)).toThrow('unexpected EOF');
    }
  });

  it('an empty or blank body has no value', () => {
    expect(parseJsonBody('')).toBeUndefined();
    expect(parseJsonBody(' \n\t ')).toBeUndefined();
    expect(readAll([' ', '\n'])).toEqual([]);
  });

  it("words syntax errors as Go's encoding/json does", () => {
    expect(syntaxError('x')).toBe("invalid character 'x' looking for beginning of value");
    expect(syntaxError('{a:1}')).toBe("invalid character 'a' looking for beginning of object key string");
    expect(syntaxError('{"a" 1}')).toBe("invalid character '1' after object key");
    expect(syntaxError('{"a":1 "b":2}')).toBe("invalid character '\"' after object key:value pair");
    expect(syntaxError('[1 2]')).toBe("invalid character '2' after array element");
    expect(syntaxError('-x')).toBe("invalid character 'x' in numeric literal");
    expect(syntaxError('"\\x"')).toBe("invalid character 'x' in string escape code");
    expect(syntaxError("{'a':1}")).toBe("invalid character '\\'' looking for beginning of object key string");
    expect(syntaxError('1.x')).toBe("invalid character 'x' after decimal point in numeric literal");
    expect(syntaxError('1ex')).toBe("invalid character 'x' in exponent of numeric literal");
    expect(syntaxError('1e+x')).toBe("invalid character 'x' in exponent of numeric literal");
    expect(syntaxError('tx')).toBe("invalid character 'x' in literal true (expecting 'r')");
    expect(syntaxError('[nul ]')).toBe("invalid character ' ' in literal null (expecting 'l')");
    expect(syntaxError('"\\u12x4"')).toBe("invalid character 'x' in \\u hexadecimal character escape");
    expect(syntaxError('"a\nb"')).toBe("invalid character '\\n' in string literal");
  });

  it("stops at Go's nesting depth, without recursion however deep the body", () => {
    const ok = '['.repeat(MAX_JSON_DEPTH) + ']'.repeat(MAX_JSON_DEPTH);
    expect(parseJsonBody(ok)).toBeInstanceOf(Array);
    expect(syntaxError('['.repeat(MAX_JSON_DEPTH + 1))).toBe("invalid character '[' exceeded max depth");
    expect(syntaxError('{"a":'.repeat(100_000))).toBe("invalid character '{' exceeded max depth");
  });

  it('looks at each character once however the body is chunked: an endless watch body costs linear work', () => {
    const seq = new JsonSequence();
    const head = Buffer.from('{"create_request":{"key":"');
    const chunk = Buffer.alloc(16 * 1024, 'QUFB');
    seq.push(head);
    expect(seq.next(false)).toBeUndefined();
    let sent = head.length;
    while (sent < 4.5 * 1024 * 1024) {
      seq.push(chunk);
      sent += chunk.length;
      expect(seq.next(false)).toBeUndefined();
    }
    // The old reader parsed all pending text again on every chunk: ~290 × 2.25 MB.
    expect(seq.scanned).toBe(sent);
    expect(seq.pending).toBe(sent);
    seq.push(Buffer.from('"}}'));
    const v = seq.next(false) as Map<string, Map<string, string>>;
    expect(v.get('create_request')?.get('key')).toHaveLength(sent - head.length);
    expect(seq.scanned).toBe(sent + 3);
    expect(seq.pending).toBe(0);
  });

  it('refuses a bad character at once, however much came before it', () => {
    const seq = new JsonSequence();
    seq.push(Buffer.from(`{"create_request":{"key":"${'a'.repeat(1 << 20)}"}`));
    expect(seq.next(false)).toBeUndefined();
    seq.push(Buffer.from('x'));
    expect(() => seq.next(false)).toThrow("invalid character 'x' after object key:value pair");
  });

  it('a syntax error in a later value of a stream surfaces when that value is read', () => {
    const seq = new JsonSequence();
    seq.push(Buffer.from('{"a":1} {"b" 2}'));
    expect(seq.next(false)).toEqual(obj(['a', n('1')]));
    expect(() => seq.next(false)).toThrow("invalid character '2' after object key");
  });
});
