/**
 * etcd's alarms and space quota, shared by every instance on one database. The alarm list is one
 * meta row, changed in its own short transaction under that row's lock; every instance re-reads
 * it (and re-measures the database) each refresh interval. An alarm raised while the disk is full
 * cannot be stored: it holds locally and is stored by a later refresh.
 */
import type { Logger } from 'pino';
import type { Dialect } from '../dialect/dialect';
import { META } from './meta';
import type { AlarmKind, AlarmMember } from './types';

interface SpaceOptions {
  /** Most bytes the database may hold before NOSPACE; 0 or less: no quota. */
  quotaBytes: number;
  refreshMs: number;
}

interface StoredAlarm {
  member: string;
  alarm: AlarmKind;
}

const same = (a: AlarmMember, b: AlarmMember) => a.memberId === b.memberId && a.alarm === b.alarm;

export class Alarms {
  private list: AlarmMember[] = [];
  /** Raised here but not stored yet (the database refused the write). */
  private unsaved: AlarmMember[] = [];
  private measured = 0;
  /** Bytes written since the last measurement: the estimate between two of them. */
  private since = 0;
  private timer: NodeJS.Timeout | undefined;
  private refreshing: Promise<void> | undefined;

  constructor(
    private readonly dialect: Dialect,
    private readonly opts: SpaceOptions,
    private readonly log: Logger,
  ) {}

  async start(): Promise<void> {
    await this.dialect.initMeta({ [META.alarms]: '[]' });
    await this.refresh();
    this.timer = setInterval(() => {
      this.refreshing ??= this.refresh()
        .catch((e: Error) => this.log.debug({ error: e.message }, 'alarm refresh failed'))
        .finally(() => (this.refreshing = undefined));
    }, this.opts.refreshMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.refreshing;
  }

  get quotaBytes(): number {
    return this.opts.quotaBytes;
  }

  /** The database size last measured plus what was written since. */
  get sizeBytes(): number {
    return this.measured + this.since;
  }

  wrote(bytes: number): void {
    this.since += bytes;
  }

  /** etcd's backendQuota.Available: a request that adds `cost` bytes fits (cost 0 always does). */
  fits(cost: number): boolean {
    return cost === 0 || this.opts.quotaBytes <= 0 || this.sizeBytes + cost < this.opts.quotaBytes;
  }

  /** etcd's alarmStore.Get: every alarm for NONE, else those of one type. */
  get(kind?: AlarmKind): AlarmMember[] {
    return kind ? this.list.filter((a) => a.alarm === kind) : [...this.list];
  }

  has(kind: AlarmKind): boolean {
    return this.list.some((a) => a.alarm === kind);
  }

  /** Raises an alarm (returns it, new or already raised). */
  async activate(m: AlarmMember): Promise<AlarmMember> {
    const existing = this.list.find((a) => same(a, m));
    if (existing) return existing;
    this.list.push(m);
    this.log.warn({ alarm: m.alarm, memberId: m.memberId.toString() }, 'alarm raised');
    try {
      await this.change((stored) => (stored.some((a) => same(a, m)) ? stored : [...stored, m]));
    } catch (e) {
      this.unsaved.push(m);
      this.log.warn({ alarm: m.alarm, error: (e as Error).message }, 'alarm kept locally until the database accepts it');
    }
    return m;
  }

  /** Clears an alarm; returns it, or undefined if it was not raised. */
  async deactivate(m: AlarmMember): Promise<AlarmMember | undefined> {
    const existing = this.list.find((a) => same(a, m));
    if (!existing) return undefined;
    this.unsaved = this.unsaved.filter((a) => !same(a, m));
    await this.change((stored) => stored.filter((a) => !same(a, m)));
    this.list = this.list.filter((a) => !same(a, m));
    this.log.warn({ alarm: m.alarm, memberId: m.memberId.toString() }, 'alarm cleared');
    return existing;
  }

  private async change(fn: (stored: AlarmMember[]) => AlarmMember[]): Promise<void> {
    const next = await this.dialect.write(async (tx) => {
      const locked = await tx.lockMeta([META.alarms]);
      const out = fn(decode(locked.values.get(META.alarms)));
      await tx.setMeta({ [META.alarms]: encode(out) });
      return out;
    });
    this.list = mergeUnsaved(next, this.unsaved);
  }

  private async refresh(): Promise<void> {
    const since = this.since;
    const size = await this.dialect.quotaBytes();
    this.measured = size;
    this.since -= since;
    if (this.unsaved.length > 0) {
      const pending = this.unsaved;
      await this.change((stored) => mergeUnsaved(stored, pending)).then(
        () => (this.unsaved = this.unsaved.filter((a) => !pending.includes(a))),
        () => undefined,
      );
    }
    this.list = mergeUnsaved(decode(await this.dialect.getMeta(META.alarms)), this.unsaved);
  }
}

function mergeUnsaved(stored: AlarmMember[], unsaved: AlarmMember[]): AlarmMember[] {
  return [...stored, ...unsaved.filter((u) => !stored.some((s) => same(s, u)))];
}

function decode(s: string | undefined): AlarmMember[] {
  if (!s) return [];
  return (JSON.parse(s) as StoredAlarm[]).map((a) => ({ memberId: BigInt(a.member), alarm: a.alarm }));
}

function encode(list: AlarmMember[]): string {
  return JSON.stringify(list.map((a) => ({ member: a.memberId.toString(), alarm: a.alarm })));
}
