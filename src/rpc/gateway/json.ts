/**
 * A JSON reader for gateway request bodies. JSON.parse cannot serve: int64 values such as lease IDs
 * exceed 2^53 and must keep every digit, so numbers stay as their source text (JsonNumber). Bodies
 * may hold a sequence of values (watch and keepalive streams), read one at a time as bytes arrive;
 * errors read as Go's encoding/json ones, which is what etcd's gateway reports.
 */

export class JsonNumber {
  constructor(readonly raw: string) {}
}

export type JsonValue = null | boolean | string | JsonNumber | JsonValue[] | JsonObject;
export type JsonObject = Map<string, JsonValue>;

/** The text is not JSON. */
export class JsonSyntaxError extends Error {}

/** The text ends inside a value: wait for more, or report `unexpected EOF` at the end of the body. */
export class JsonIncomplete extends Error {
  constructor() {
    super('unexpected EOF');
  }
}

const WS = new Set([' ', '\t', '\n', '\r']);
const NUMBER = /^-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/;
const ESCAPES: Record<string, string> = { '"': '"', '\\': '\\', '/': '/', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t' };

function show(c: string): string {
  return c === "'" ? "'\\''" : `'${c}'`;
}

class Reader {
  pos: number;
  constructor(
    private readonly s: string,
    start: number,
  ) {
    this.pos = start;
  }

  skipWs(): void {
    while (this.pos < this.s.length && WS.has(this.s[this.pos])) this.pos++;
  }

  /** The next non-space character, not consumed. */
  peek(): string {
    this.skipWs();
    if (this.pos >= this.s.length) throw new JsonIncomplete();
    return this.s[this.pos];
  }

  value(): JsonValue {
    const c = this.peek();
    if (c === '{') return this.object();
    if (c === '[') return this.array();
    if (c === '"') return this.string();
    if (c === '-' || (c >= '0' && c <= '9')) return this.number();
    for (const [word, v] of [
      ['true', true],
      ['false', false],
      ['null', null],
    ] as const) {
      if (this.s.startsWith(word, this.pos)) {
        this.pos += word.length;
        return v;
      }
      if (word.startsWith(this.s.slice(this.pos))) throw new JsonIncomplete();
    }
    throw new JsonSyntaxError(`invalid character ${show(c)} looking for beginning of value`);
  }

  private number(): JsonNumber {
    const m = NUMBER.exec(this.s.slice(this.pos, this.pos + 400));
    if (!m) {
      if (this.pos + 1 >= this.s.length) throw new JsonIncomplete();
      throw new JsonSyntaxError(`invalid character ${show(this.s[this.pos + 1])} in numeric literal`);
    }
    this.pos += m[0].length;
    // A number at the very end may continue in the next chunk.
    if (this.pos >= this.s.length) throw new JsonIncomplete();
    return new JsonNumber(m[0]);
  }

  private string(): string {
    let out = '';
    let i = this.pos + 1;
    for (;;) {
      if (i >= this.s.length) throw new JsonIncomplete();
      const c = this.s[i];
      if (c === '"') break;
      if (c < ' ') throw new JsonSyntaxError(`invalid character ${show(c)} in string literal`);
      if (c !== '\\') {
        out += c;
        i++;
        continue;
      }
      if (i + 1 >= this.s.length) throw new JsonIncomplete();
      const e = this.s[i + 1];
      if (e === 'u') {
        if (i + 6 > this.s.length) throw new JsonIncomplete();
        const hex = this.s.slice(i + 2, i + 6);
        if (!/^[0-9a-fA-F]{4}$/.test(hex)) throw new JsonSyntaxError('invalid character in \\u hexadecimal character escape');
        out += String.fromCharCode(parseInt(hex, 16));
        i += 6;
      } else if (ESCAPES[e] !== undefined) {
        out += ESCAPES[e];
        i += 2;
      } else {
        throw new JsonSyntaxError(`invalid character ${show(e)} in string escape code`);
      }
    }
    this.pos = i + 1;
    return out;
  }

  private array(): JsonValue[] {
    this.pos++;
    const out: JsonValue[] = [];
    if (this.peek() === ']') {
      this.pos++;
      return out;
    }
    for (;;) {
      out.push(this.value());
      const c = this.peek();
      this.pos++;
      if (c === ']') return out;
      if (c !== ',') throw new JsonSyntaxError(`invalid character ${show(c)} after array element`);
    }
  }

  private object(): JsonObject {
    this.pos++;
    const out: JsonObject = new Map();
    let c = this.peek();
    if (c === '}') {
      this.pos++;
      return out;
    }
    for (;;) {
      if (c !== '"') throw new JsonSyntaxError(`invalid character ${show(c)} looking for beginning of object key string`);
      const key = this.string();
      c = this.peek();
      if (c !== ':') throw new JsonSyntaxError(`invalid character ${show(c)} after object key`);
      this.pos++;
      out.set(key, this.value());
      c = this.peek();
      this.pos++;
      if (c === '}') return out;
      if (c !== ',') throw new JsonSyntaxError(`invalid character ${show(c)} after object key:value pair`);
      c = this.peek();
    }
  }
}

/**
 * Reads the next JSON value of a sequence starting at `from`. Returns undefined when only
 * whitespace is left; throws JsonIncomplete when the value is not complete yet.
 */
function readJsonValue(text: string, from: number): { value: JsonValue; end: number } | undefined {
  const r = new Reader(text, from);
  r.skipWs();
  if (r.pos >= text.length) return undefined;
  const value = r.value();
  return { value, end: r.pos };
}

/**
 * Incremental reader for a request body holding a sequence of JSON values: feed chunks, take
 * complete values. `finish()` at the end of the body reports a truncated value.
 */
export class JsonSequence {
  private text = '';
  private pos = 0;
  private readonly decoder = new TextDecoder('utf-8');

  /** Characters received but not yet returned as a value. */
  get pending(): number {
    return this.text.length - this.pos;
  }

  push(chunk: Buffer): void {
    this.text += this.decoder.decode(chunk, { stream: true });
  }

  /** The next complete value, or undefined if more input is needed. Throws JsonSyntaxError. */
  next(ended: boolean): JsonValue | undefined {
    // A number can only be known complete once something follows it; at the end of the body it is.
    const text = ended ? this.text + ' ' : this.text;
    try {
      const r = readJsonValue(text, this.pos);
      if (!r) return undefined;
      this.pos = r.end;
      if (this.pos > 64 * 1024) {
        this.text = this.text.slice(this.pos);
        this.pos = 0;
      }
      return r.value;
    } catch (e) {
      if (e instanceof JsonIncomplete && !ended) return undefined;
      throw e;
    }
  }
}

/** Parses a whole unary request body: one JSON value, or nothing (an empty request). */
export function parseJsonBody(body: string): JsonValue | undefined {
  const seq = new JsonSequence();
  seq.push(Buffer.from(body, 'utf8'));
  return seq.next(true);
}
