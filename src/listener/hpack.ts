/**
 * Just enough HPACK (RFC 7541) to rewrite a header in a client's request headers: a decoder that
 * follows the client's dynamic table, and an encoder that writes every field as a plain literal
 * without indexing, so the receiving decoder's own table stays empty and needs no bookkeeping.
 */
import { HUFFMAN_CODES, HUFFMAN_LENGTHS, STATIC_TABLE } from './hpack-tables';

export class HpackError extends Error {}

/** One header field; strings are latin1 so any octet survives the round trip. */
export interface HeaderField {
  name: string;
  value: string;
  /** Sent as "never indexed" (a credential): forwarded the same way. */
  sensitive: boolean;
}

/** A Huffman decoding trie: node n's children are at [2n] (bit 0) and [2n+1] (bit 1); leaves are -1 - symbol. */
const TRIE: Int32Array = (() => {
  const t: number[] = [0, 0];
  let nodes = 1;
  for (let sym = 0; sym < 256; sym++) {
    let node = 0;
    for (let i = HUFFMAN_LENGTHS[sym] - 1; i >= 0; i--) {
      const slot = 2 * node + ((HUFFMAN_CODES[sym] >>> i) & 1);
      if (i === 0) t[slot] = -1 - sym;
      else {
        if (t[slot] === 0) {
          t[slot] = nodes++;
          t.push(0, 0);
        }
        node = t[slot];
      }
    }
  }
  return Int32Array.from(t);
})();

function huffmanDecode(b: Buffer): string {
  const out: number[] = [];
  let node = 0;
  let depth = 0;
  let allOnes = true;
  for (const byte of b) {
    for (let i = 7; i >= 0; i--) {
      const bit = (byte >> i) & 1;
      const next = TRIE[2 * node + bit];
      allOnes &&= bit === 1;
      depth++;
      if (next < 0) {
        out.push(-1 - next);
        node = 0;
        depth = 0;
        allOnes = true;
      } else if (next === 0) throw new HpackError('invalid Huffman code');
      else node = next;
    }
  }
  // §5.2: padding is a prefix of EOS (all ones), shorter than a byte.
  if (depth > 7 || !allOnes) throw new HpackError('invalid Huffman padding');
  return Buffer.from(out).toString('latin1');
}

/** Decodes the header blocks of one connection, in order. */
export class HpackDecoder {
  /** Newest first, as dynamic table indexes count. */
  private readonly table: Array<[string, string]> = [];
  private size = 0;
  private maxSize: number;

  /** `limit`: the SETTINGS_HEADER_TABLE_SIZE the receiver advertised (the encoder may not exceed it). */
  constructor(private readonly limit: number) {
    this.maxSize = limit;
  }

  decode(block: Buffer): HeaderField[] {
    const fields: HeaderField[] = [];
    const r = { b: block, at: 0 };
    while (r.at < block.length) {
      const first = block[r.at];
      if (first & 0x80) {
        const [name, value] = this.entry(readInt(r, 7));
        fields.push({ name, value, sensitive: false });
      } else if (first & 0x40) {
        const f = this.literal(r, 6);
        this.add(f.name, f.value);
        fields.push(f);
      } else if (first & 0x20) {
        const size = readInt(r, 5);
        if (size > this.limit) throw new HpackError('dynamic table size update above the limit');
        this.maxSize = size;
        this.evict(0);
      } else {
        const f = this.literal(r, 4);
        fields.push({ ...f, sensitive: (first & 0x10) !== 0 });
      }
    }
    return fields;
  }

  private literal(r: Reader, prefix: number): HeaderField {
    const index = readInt(r, prefix);
    const name = index === 0 ? readString(r) : this.entry(index)[0];
    return { name, value: readString(r), sensitive: false };
  }

  private entry(index: number): [string, string] {
    if (index >= 1 && index < STATIC_TABLE.length) return STATIC_TABLE[index] as [string, string];
    const e = this.table[index - STATIC_TABLE.length];
    if (!e) throw new HpackError(`header index ${index} out of range`);
    return e;
  }

  private add(name: string, value: string): void {
    const size = name.length + value.length + 32;
    this.evict(size);
    // §4.4: an entry larger than the table empties it and is not added.
    if (size > this.maxSize) return;
    this.table.unshift([name, value]);
    this.size += size;
  }

  private evict(room: number): void {
    while (this.table.length > 0 && this.size + room > this.maxSize) {
      const [n, v] = this.table.pop() as [string, string];
      this.size -= n.length + v.length + 32;
    }
  }
}

interface Reader {
  b: Buffer;
  at: number;
}

function readInt(r: Reader, prefix: number): number {
  const max = (1 << prefix) - 1;
  let v = r.b[r.at++] & max;
  if (v < max) return v;
  for (let shift = 0; ; shift += 7) {
    if (r.at >= r.b.length) throw new HpackError('truncated integer');
    if (shift > 21) throw new HpackError('integer too large');
    const byte = r.b[r.at++];
    v += (byte & 0x7f) * 2 ** shift;
    if ((byte & 0x80) === 0) return v;
  }
}

function readString(r: Reader): string {
  if (r.at >= r.b.length) throw new HpackError('truncated string');
  const huffman = (r.b[r.at] & 0x80) !== 0;
  const len = readInt(r, 7);
  if (r.at + len > r.b.length) throw new HpackError('truncated string');
  const raw = r.b.subarray(r.at, r.at + len);
  r.at += len;
  return huffman ? huffmanDecode(raw) : raw.toString('latin1');
}

function writeInt(out: number[], first: number, prefix: number, v: number): void {
  const max = (1 << prefix) - 1;
  if (v < max) return void out.push(first | v);
  out.push(first | max);
  for (v -= max; v >= 0x80; v = Math.floor(v / 0x80)) out.push((v % 0x80) | 0x80);
  out.push(v);
}

/** Every field as a literal with a literal name, without indexing (or never indexed). */
export function encodeLiterals(fields: HeaderField[]): Buffer {
  const parts: Buffer[] = [];
  for (const f of fields) {
    const head: number[] = [f.sensitive ? 0x10 : 0x00];
    writeInt(head, 0, 7, Buffer.byteLength(f.name, 'latin1'));
    parts.push(Buffer.from(head), Buffer.from(f.name, 'latin1'));
    const len: number[] = [];
    writeInt(len, 0, 7, Buffer.byteLength(f.value, 'latin1'));
    parts.push(Buffer.from(len), Buffer.from(f.value, 'latin1'));
  }
  return Buffer.concat(parts);
}
