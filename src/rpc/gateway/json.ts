/**
 * A JSON reader for gateway request bodies. JSON.parse cannot serve: int64 values such as lease IDs
 * exceed 2^53 and must keep every digit, so numbers stay as their source text (JsonNumber). Bodies
 * may hold a sequence of values (watch and keepalive streams), read one at a time as bytes arrive.
 *
 * The reader is a resumable state machine in the manner of Go's encoding/json scanner: every
 * character is looked at once, whatever the chunking, and the text consumed is dropped, so a client
 * that trickles an endless value costs linear time and only the value built so far. It has no
 * recursion (Go's depth limit applies instead), and errors read as encoding/json's, which is what
 * etcd's gateway reports.
 */

export class JsonNumber {
  constructor(readonly raw: string) {}
}

export type JsonValue = null | boolean | string | JsonNumber | JsonValue[] | JsonObject;
type JsonObject = Map<string, JsonValue>;

/** The text is not JSON. */
export class JsonSyntaxError extends Error {}

/** The text ends inside a value: wait for more, or report `unexpected EOF` at the end of the body. */
export class JsonIncomplete extends Error {
  constructor() {
    super('unexpected EOF');
  }
}

/** Go's encoding/json maxNestingDepth. */
export const MAX_JSON_DEPTH = 10000;

const enum Mode {
  /** Between top-level values. */
  Top,
  /** A value must start (after `:` or `,` in an array). */
  Value,
  /** After `[`: a value or `]`. */
  ArrayFirst,
  AfterElement,
  /** After `{`: a key or `}`. */
  ObjectFirst,
  /** After `,` in an object. */
  Key,
  Colon,
  AfterPair,
  Str,
  StrEscape,
  StrHex,
  Number,
  Literal,
}

/** Where a number is, as Go's scanner names its states. */
const enum Num {
  Neg,
  Zero,
  Int,
  Dot,
  Frac,
  E,
  ESign,
  Exp,
}

interface ArrayFrame {
  array: JsonValue[];
}
interface ObjectFrame {
  object: JsonObject;
  key: string;
}
type Frame = ArrayFrame | ObjectFrame;

const ESCAPES: Record<string, string> = { '"': '"', '\\': '\\', '/': '/', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t' };
const LITERALS: Record<string, JsonValue> = { true: true, false: false, null: null };
// eslint-disable-next-line no-control-regex -- control characters are exactly what ends a plain run
const PLAIN = /[^"\\\x00-\x1f]+/y;
const HEX = /^[0-9a-fA-F]$/;

/** Go's quoteChar: the character in single quotes, escaped as strconv.Quote would. */
function show(c: string): string {
  if (c === "'") return "'\\''";
  const named: Record<string, string> = { '\n': '\\n', '\r': '\\r', '\t': '\\t', '\\': '\\\\' };
  if (named[c]) return `'${named[c]}'`;
  if (c < ' ' || c === '\x7f') return `'\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}'`;
  return `'${c}'`;
}

const isSpace = (c: string): boolean => c === ' ' || c === '\t' || c === '\n' || c === '\r';
const isDigit = (c: string): boolean => c >= '0' && c <= '9';
const fail = (c: string, context: string): JsonSyntaxError => new JsonSyntaxError(`invalid character ${show(c)} ${context}`);

/**
 * Incremental reader for a request body holding a sequence of JSON values: feed chunks, take
 * complete values. `next(true)` at the end of the body reports a truncated value.
 */
export class JsonSequence {
  private text = '';
  private pos = 0;
  private readonly decoder = new TextDecoder('utf-8');
  private mode = Mode.Top;
  private readonly stack: Frame[] = [];
  /** The string being read, in pieces, and whether it is an object key. */
  private str: string[] = [];
  private strIsKey = false;
  private hex = '';
  private num = '';
  private numState = Num.Int;
  private word = '';
  private wordAt = 0;
  /** Characters received, and where the last value returned ended (both counted since the start). */
  private received = 0;
  private returnedAt = 0;
  private done: { value: JsonValue } | undefined;
  /** Characters examined so far: each once, however the body is chunked. */
  scanned = 0;

  /** Characters received but not yet returned as a value. */
  get pending(): number {
    return this.received - this.returnedAt;
  }

  push(chunk: Buffer): void {
    const s = this.decoder.decode(chunk, { stream: true });
    this.received += s.length;
    this.text = this.pos === this.text.length ? s : this.text.slice(this.pos) + s;
    this.pos = 0;
  }

  /** The next complete value, or undefined if more input is needed. Throws JsonSyntaxError. */
  next(ended: boolean): JsonValue | undefined {
    this.run();
    if (!this.done && ended) this.finishAtEnd();
    const d = this.done;
    if (!d) return undefined;
    this.done = undefined;
    this.returnedAt = this.received - (this.text.length - this.pos);
    return d.value;
  }

  /** At the end of the body: a number may end there; anything else unfinished is unexpected EOF. */
  private finishAtEnd(): void {
    if (this.mode === Mode.Top) return;
    if (this.mode === Mode.Number && this.numComplete()) {
      this.endNumber();
      if (this.done) return;
    }
    throw new JsonIncomplete();
  }

  private run(): void {
    const s = this.text;
    const start = this.pos;
    try {
      while (this.pos < s.length && !this.done) this.step(s);
    } finally {
      this.scanned += this.pos - start;
    }
  }

  /** Consumes at least one character of `s` (or completes a number without consuming). */
  private step(s: string): void {
    const c = s[this.pos];
    switch (this.mode) {
      case Mode.Top:
      case Mode.Value:
        if (isSpace(c)) return void this.pos++;
        return this.beginValue(c);
      case Mode.ArrayFirst:
        if (isSpace(c)) return void this.pos++;
        if (c === ']') {
          this.pos++;
          return this.closeContainer();
        }
        return this.beginValue(c);
      case Mode.AfterElement:
        if (isSpace(c)) return void this.pos++;
        this.pos++;
        if (c === ',') return void (this.mode = Mode.Value);
        if (c === ']') return this.closeContainer();
        throw fail(c, 'after array element');
      case Mode.ObjectFirst:
      case Mode.Key:
        if (isSpace(c)) return void this.pos++;
        this.pos++;
        if (c === '}' && this.mode === Mode.ObjectFirst) return this.closeContainer();
        if (c !== '"') throw fail(c, 'looking for beginning of object key string');
        return this.beginString(true);
      case Mode.Colon:
        if (isSpace(c)) return void this.pos++;
        this.pos++;
        if (c !== ':') throw fail(c, 'after object key');
        return void (this.mode = Mode.Value);
      case Mode.AfterPair:
        if (isSpace(c)) return void this.pos++;
        this.pos++;
        if (c === ',') return void (this.mode = Mode.Key);
        if (c === '}') return this.closeContainer();
        throw fail(c, 'after object key:value pair');
      case Mode.Str:
        return this.stringPart(s);
      case Mode.StrEscape: {
        this.pos++;
        if (c === 'u') {
          this.hex = '';
          return void (this.mode = Mode.StrHex);
        }
        const e = ESCAPES[c];
        if (e === undefined) throw fail(c, 'in string escape code');
        this.str.push(e);
        return void (this.mode = Mode.Str);
      }
      case Mode.StrHex:
        this.pos++;
        if (!HEX.test(c)) throw fail(c, 'in \\u hexadecimal character escape');
        this.hex += c;
        if (this.hex.length === 4) {
          this.str.push(String.fromCharCode(parseInt(this.hex, 16)));
          this.mode = Mode.Str;
        }
        return;
      case Mode.Number:
        return this.numberChar(c);
      case Mode.Literal: {
        const want = this.word[this.wordAt];
        if (c !== want) throw fail(c, `in literal ${this.word} (expecting ${show(want)})`);
        this.pos++;
        if (++this.wordAt === this.word.length) this.complete(LITERALS[this.word]);
        return;
      }
    }
  }

  private beginValue(c: string): void {
    this.pos++;
    if (c === '{' || c === '[') {
      if (this.stack.length >= MAX_JSON_DEPTH) throw fail(c, 'exceeded max depth');
      if (c === '{') {
        this.stack.push({ object: new Map(), key: '' });
        this.mode = Mode.ObjectFirst;
      } else {
        this.stack.push({ array: [] });
        this.mode = Mode.ArrayFirst;
      }
      return;
    }
    if (c === '"') return this.beginString(false);
    if (c === '-' || isDigit(c)) {
      this.num = c;
      this.numState = c === '-' ? Num.Neg : c === '0' ? Num.Zero : Num.Int;
      this.mode = Mode.Number;
      return;
    }
    const word = c === 't' ? 'true' : c === 'f' ? 'false' : c === 'n' ? 'null' : undefined;
    if (!word) throw fail(c, 'looking for beginning of value');
    this.word = word;
    this.wordAt = 1;
    this.mode = Mode.Literal;
  }

  private beginString(isKey: boolean): void {
    this.str = [];
    this.strIsKey = isKey;
    this.mode = Mode.Str;
  }

  /** A run of plain characters at once, then the character that ends it. */
  private stringPart(s: string): void {
    PLAIN.lastIndex = this.pos;
    const m = PLAIN.exec(s);
    if (m) {
      this.str.push(m[0]);
      this.pos += m[0].length;
      if (this.pos >= s.length) return;
    }
    const c = s[this.pos++];
    if (c === '\\') return void (this.mode = Mode.StrEscape);
    if (c !== '"') throw fail(c, 'in string literal');
    const value = this.str.length === 1 ? this.str[0] : this.str.join('');
    this.str = [];
    if (!this.strIsKey) return this.complete(value);
    (this.stack[this.stack.length - 1] as ObjectFrame).key = value;
    this.mode = Mode.Colon;
  }

  private numComplete(): boolean {
    const st = this.numState;
    return st === Num.Zero || st === Num.Int || st === Num.Frac || st === Num.Exp;
  }

  private numberChar(c: string): void {
    const digit = isDigit(c);
    let next: Num | undefined;
    switch (this.numState) {
      case Num.Neg:
        if (!digit) throw fail(c, 'in numeric literal');
        next = c === '0' ? Num.Zero : Num.Int;
        break;
      case Num.Zero:
      case Num.Int:
        if (digit && this.numState === Num.Int) next = Num.Int;
        else if (c === '.') next = Num.Dot;
        else if (c === 'e' || c === 'E') next = Num.E;
        break;
      case Num.Dot:
        if (!digit) throw fail(c, 'after decimal point in numeric literal');
        next = Num.Frac;
        break;
      case Num.Frac:
        if (digit) next = Num.Frac;
        else if (c === 'e' || c === 'E') next = Num.E;
        break;
      case Num.E:
        if (c === '+' || c === '-') next = Num.ESign;
        else if (digit) next = Num.Exp;
        else throw fail(c, 'in exponent of numeric literal');
        break;
      case Num.ESign:
        if (!digit) throw fail(c, 'in exponent of numeric literal');
        next = Num.Exp;
        break;
      case Num.Exp:
        if (digit) next = Num.Exp;
        break;
    }
    // The number ended before this character, which is read again in the next state.
    if (next === undefined) return this.endNumber();
    this.num += c;
    this.numState = next;
    this.pos++;
  }

  private endNumber(): void {
    const n = new JsonNumber(this.num);
    this.num = '';
    this.complete(n);
  }

  private closeContainer(): void {
    const f = this.stack.pop() as Frame;
    this.complete('array' in f ? f.array : f.object);
  }

  /** A value is complete: it goes into its container, or is the next top-level value. */
  private complete(v: JsonValue): void {
    const top = this.stack[this.stack.length - 1];
    if (!top) {
      this.done = { value: v };
      this.mode = Mode.Top;
    } else if ('array' in top) {
      top.array.push(v);
      this.mode = Mode.AfterElement;
    } else {
      top.object.set(top.key, v);
      this.mode = Mode.AfterPair;
    }
  }
}

/** Parses a whole unary request body: its first JSON value, or nothing (an empty request). */
export function parseJsonBody(body: string): JsonValue | undefined {
  const seq = new JsonSequence();
  seq.push(Buffer.from(body, 'utf8'));
  return seq.next(true);
}
