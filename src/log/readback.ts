/**
 * A commit whose outcome is unknown (the connection died once the request was sent) is resolved by
 * reading back this process's stamp row, which every batch that writes anything sets to its own
 * value: the batch landed exactly when the row holds that value. Never guessed.
 */
import type { Logger } from 'pino';
import type { CommitUnknownError, Dialect } from '../dialect/dialect';
import { Errors } from '../errors';
import { sleep } from './backoff';
import type { Evaluated } from './fenced-commit';

/** How long a commit with an unknown outcome is read back for before the batch fails. */
const READBACK_DEADLINE_MS = 30_000;

export class Readback {
  constructor(
    private readonly dialect: Dialect,
    private readonly stampName: string,
    private readonly log: Logger,
  ) {}

  /**
   * Did the batch's stamp land? Reads back until the deadline. Returns undefined when it landed,
   * the original error (a retry follows) when it did not, and etcd's timeout when nobody can tell.
   * Undoing in memory is right even then: had it landed, the next pass of the follower applies the
   * rows from the database like another instance's.
   */
  async resolve(ev: Evaluated, stamp: string, e: CommitUnknownError): Promise<unknown> {
    // Nothing was written (no stamp): the outcome does not matter.
    if (ev.meta[this.stampName] === undefined) return undefined;
    const deadline = Date.now() + READBACK_DEADLINE_MS;
    for (let delay = 50; ; delay = Math.min(delay * 2, 1000)) {
      try {
        const landed = (await this.dialect.getMeta(this.stampName)) === stamp;
        this.log.warn({ stamp, landed }, 'commit outcome was unknown; read back');
        return landed ? undefined : e;
      } catch (readErr) {
        if (Date.now() > deadline) {
          this.log.error({ err: readErr }, 'commit outcome still unknown; failing the batch');
          return Errors.timeout();
        }
        await sleep(delay);
      }
    }
  }
}
