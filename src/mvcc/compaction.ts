/**
 * etcd's Compact: the compact revision moves in a write job (reads below it fail from then on),
 * watchers that still needed it are cancelled, the index drops what is no longer reachable (in
 * steps, between requests) and the log deletes the obsolete rows — both awaited only for a
 * physical compaction.
 */
import type { Logger } from 'pino';
import { Errors } from '../errors';
import type { Log } from '../log/log';
import type { RevisionIndex } from './revision-index';
import type { CompactionRequest, CompactionResponse } from './types';
import type { WatchHub } from './watch/watch-hub';

/** Keys trimmed per step: a few milliseconds of work, so no request waits long behind one. */
const TRIM_STEP_KEYS = 4096;

export class Compaction {
  constructor(
    private readonly index: RevisionIndex,
    private readonly hub: WatchHub,
    private readonly log: Log,
    private readonly logger: Logger,
  ) {}

  /** `check` (the admin check) runs first in the job, under the fence. */
  async compact(req: CompactionRequest, check: () => void = () => undefined): Promise<CompactionResponse> {
    const rev = req.revision;
    let trimmed: Promise<void> | undefined;
    const revision = await this.log.submit((b) => {
      check();
      if (rev > b.revision) throw Errors.futureRev();
      if (rev <= this.index.compactRevision) throw Errors.compacted();
      const before = this.index.compactRevision;
      // Reads below `rev` fail from now on; history is trimmed once this commits.
      this.index.compactRevision = rev;
      b.onUndo(() => (this.index.compactRevision = before));
      b.markCompacted(rev);
      b.onCommit(() => (trimmed = this.trim(rev)));
      return b.revision;
    });
    const physical = this.log.compactRows(rev);
    if (req.physical) await Promise.all([physical, trimmed]);
    // Otherwise it finishes in the background; the log reports a failure and a restart resumes it.
    return { header: { revision } };
  }

  /** Another instance compacted the log. */
  applyRemote(rev: number): void {
    void this.trim(rev);
    this.logger.info({ revision: rev }, 'compaction by another instance applied');
  }

  /** Trims the index in steps with the event loop free between them; resolves when done. */
  private trim(rev: number): Promise<void> {
    const trim = this.index.trim(rev);
    this.hub.compacted();
    return new Promise((resolve) => {
      const run = (): void => {
        if (trim.step(TRIM_STEP_KEYS)) resolve();
        else setImmediate(run);
      };
      run();
    });
  }
}
