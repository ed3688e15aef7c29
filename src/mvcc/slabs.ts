/**
 * Where the index keeps the bytes of its versions: large shared buffers filled front to back. A
 * Node Buffer per key and per value (what the drivers and the gRPC decoder hand over) costs a
 * typed-array object, an ArrayBuffer and a backing store each, hundreds of bytes and several
 * objects for every major GC to trace; a version in a slab costs three offsets. Space is never
 * reused: a slab goes (by GC) once nothing points into it, and compaction moves the survivors out of
 * a slab that is mostly dead so that it can (see `sparse`).
 */
const FIRST_SLAB = 64 * 1024;
const MAX_SLAB = 1024 * 1024;
/** A record this big gets a buffer of its own, so a large value never strands a slab's tail. */
const OWN_SLAB_FROM = MAX_SLAB / 8;

export class Slab {
  /** Bytes handed out. */
  used = 0;
  /** Bytes of records still held (`Slabs.release` takes them back). */
  live = 0;
  constructor(readonly buf: Buffer) {}
}

export class Slabs {
  private current: Slab | undefined;

  /** Takes `n` bytes: they are `slab.buf[slab.used - n, slab.used)` of the slab returned. */
  reserve(n: number): Slab {
    let s = this.current;
    if (n >= OWN_SLAB_FROM) s = new Slab(Buffer.allocUnsafeSlow(n));
    else if (!s || s.used + n > s.buf.length) {
      // Small stores (and tests) start small; a big one soon reaches full-size slabs.
      const size = s ? Math.min(MAX_SLAB, s.buf.length * 2) : FIRST_SLAB;
      s = this.current = new Slab(Buffer.allocUnsafeSlow(size));
    }
    s.used += n;
    s.live += n;
    return s;
  }

  /** A copy of `bytes` in a slab, as a view. */
  copy(bytes: Uint8Array): Buffer {
    const s = this.reserve(bytes.length);
    s.buf.set(bytes, s.used - bytes.length);
    return s.buf.subarray(s.used - bytes.length, s.used);
  }

  release(s: Slab, n: number): void {
    s.live -= n;
  }

  /** Whether what is still held in `s` is worth moving so the slab can go: under half of it. */
  sparse(s: Slab): boolean {
    return s !== this.current && s.live * 2 < s.used;
  }
}
