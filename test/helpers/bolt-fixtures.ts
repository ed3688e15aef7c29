/** Random bbolt contents for property tests, and reading a whole file back for comparison. */
import fc from 'fast-check';
import { BoltReader } from '../../src/bbolt/reader';
import type { BucketInput, Entry } from '../../src/bbolt/writer';

export interface Contents {
  name: Buffer;
  entries: Entry[];
}

const bytes = (min: number, max: number) => fc.uint8Array({ minLength: min, maxLength: max }).map((a) => Buffer.from(a));

/** Values from empty to a few pages (overflow), mostly small. */
const value = fc.oneof(
  { weight: 8, arbitrary: bytes(0, 64) },
  { weight: 2, arbitrary: bytes(100, 1500) },
  { weight: 1, arbitrary: bytes(4000, 13000) },
);

const sortedUnique = (bufs: Buffer[]): Buffer[] => {
  const seen = new Map(bufs.map((b) => [b.toString('hex'), b]));
  return [...seen.values()].sort(Buffer.compare);
};

/** One bucket: up to `maxKeys` distinct keys (1..40 bytes, some long ones), sorted. */
export const bucketContents = (maxKeys: number): fc.Arbitrary<Entry[]> =>
  fc
    .array(fc.tuple(fc.oneof({ weight: 9, arbitrary: bytes(1, 20) }, { weight: 1, arbitrary: bytes(100, 600) }), value), {
      maxLength: maxKeys,
    })
    .map((pairs) => {
      const byKey = new Map(pairs.map(([k, v]) => [k.toString('hex'), [k, v] as const]));
      return sortedUnique(pairs.map(([k]) => k)).map((k) => byKey.get(k.toString('hex'))!);
    });

/** Several buckets with distinct, sorted names. */
export const fileContents = (maxBuckets: number, maxKeys: number): fc.Arbitrary<Contents[]> =>
  fc.array(fc.tuple(bytes(1, 12), bucketContents(maxKeys)), { maxLength: maxBuckets }).map((bs) => {
    const byName = new Map(bs.map(([n, e]) => [n.toString('hex'), e]));
    return sortedUnique(bs.map(([n]) => n)).map((name) => ({ name, entries: byName.get(name.toString('hex'))! }));
  });

/** Hands the entries over as an async stream, as the snapshot writer gets them. */
export function asInput(contents: Contents[]): BucketInput[] {
  return contents.map((c) => ({
    name: c.name,
    entries: (async function* () {
      yield* c.entries;
    })(),
  }));
}

/** Everything a bbolt file holds, read with the streaming reader (copied out of the pages). */
export async function readAll(path: string): Promise<Contents[]> {
  const r = await BoltReader.open(path);
  try {
    const out: Contents[] = [];
    for await (const b of r.buckets()) {
      const entries: Entry[] = [];
      for await (const e of r.entries(b.bucket)) entries.push([Buffer.from(e.key), Buffer.from(e.value)]);
      out.push({ name: Buffer.from(b.name), entries });
    }
    return out;
  } finally {
    await r.close();
  }
}

/** Hex form, for readable assertion diffs. */
export const hexContents = (cs: Contents[]) =>
  cs.map((c) => ({ name: c.name.toString('hex'), entries: c.entries.map(([k, v]) => [k.toString('hex'), v.toString('hex')]) }));
