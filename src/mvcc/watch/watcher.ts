/**
 * One watcher of a stream. `nextRev` is the first revision it has not seen: live delivery and
 * replay both advance it past exactly what they sent, so nothing is sent twice or skipped.
 */
import type { KeyRange } from '../key-range';
import { EventType } from '../types';

export class Watcher {
  /** Events were sent since the last progress tick. */
  sentEvents = false;
  /** A replay from history is scheduled or running; live delivery skips the watcher meanwhile. */
  replaying = false;

  constructor(
    readonly id: number,
    readonly range: KeyRange,
    private readonly noPut: boolean,
    private readonly noDelete: boolean,
    readonly prevKv: boolean,
    readonly progressNotify: boolean,
    public nextRev: number,
  ) {}

  wants(type: EventType): boolean {
    return type === EventType.PUT ? !this.noPut : !this.noDelete;
  }
}
