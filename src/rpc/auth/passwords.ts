/**
 * bcrypt for etcd's passwords, off the event loop and bounded. The hashes run on libuv's thread
 * pool (the native `bcrypt` module); at most `concurrency` at once, so the pool keeps threads for
 * file and DNS work, and at most `queue` waiting — a client guessing passwords as fast as it can
 * gets etcd's "too many requests" beyond that instead of a queue that grows without end.
 */
import { createRequire } from 'node:module';
import { Errors } from '../../errors';

interface Bcrypt {
  hash(data: string, rounds: number): Promise<string>;
  compare(data: string, encrypted: string): Promise<boolean>;
}

/** Go's bcrypt refuses longer passwords (x/crypto ErrPasswordTooLong); the native module would cut them. */
export const BCRYPT_MAX_PASSWORD_BYTES = 72;

interface PasswordOptions {
  cost: number;
  concurrency: number;
  queue: number;
}

export class Passwords {
  private readonly bcrypt = createRequire(__filename)('bcrypt') as Bcrypt;
  private running = 0;
  private readonly waiting: Array<() => void> = [];

  constructor(private readonly opts: PasswordOptions) {}

  /** A new hash; fails as etcd's bcrypt does for a password it cannot hash. */
  hash(password: string): Promise<string> {
    if (Buffer.byteLength(password, 'utf8') > BCRYPT_MAX_PASSWORD_BYTES) return Promise.reject(Errors.passwordTooLong());
    return this.run(() => this.bcrypt.hash(password, this.opts.cost));
  }

  /** Whether `password` matches `hash`; a hash that is not bcrypt's (or none) matches nothing. */
  compare(password: string, hash: string): Promise<boolean> {
    if (!hash.startsWith('$2')) return Promise.resolve(false);
    return this.run(() => this.bcrypt.compare(password, hash).catch(() => false));
  }

  /** Hashes running and waiting (for /metrics and tests). */
  get load(): { running: number; waiting: number } {
    return { running: this.running, waiting: this.waiting.length };
  }

  private async run<T>(fn: () => Promise<T>): Promise<T> {
    if (this.running < this.opts.concurrency) this.running++;
    else if (this.waiting.length >= this.opts.queue) throw Errors.tooManyRequests();
    // A finishing hash hands its slot straight to the first waiter.
    else await new Promise<void>((resolve) => this.waiting.push(resolve));
    try {
      return await fn();
    } finally {
      const next = this.waiting.shift();
      if (next) next();
      else this.running--;
    }
  }
}
