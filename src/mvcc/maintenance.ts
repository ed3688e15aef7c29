/**
 * The store's maintenance side: what etcd's Maintenance service and the operator's probes ask of
 * it (defragment, snapshot, hashes, alarms, sizes, /health and /metrics readings). Everything
 * here goes to the log or reads the watch hub's counts; nothing touches the key space.
 */
import type { Log } from '../log/log';
import type { AlarmKind, AlarmMember } from '../log/types';
import { hashKVAt, hashOf, writeSnapshot, type BackendIdentity, type HashKVResult, type HashResult, type SnapshotFile } from './backup';
import type { DbSize } from './types';
import type { WatchHub } from './watch/watch-hub';

export class StoreMaintenance {
  constructor(
    private readonly log: Log,
    private readonly hub: WatchHub,
  ) {}

  /** Gives free space back to the file system; writes wait meanwhile, as during etcd's defrag. */
  defragment(): Promise<void> {
    return this.log.defragment();
  }

  /**
   * The store at its last committed revision as etcd's backend db, in a scratch file the caller
   * streams and removes. Read from one consistent read of the log: writes go on meanwhile.
   */
  snapshot(id: BackendIdentity): Promise<SnapshotFile> {
    return this.log.readView((view) => writeSnapshot(view, id));
  }

  /** etcd's HashKV at `revision` (0: the current one), from one consistent read of the log. */
  hashKV(revision: number): Promise<HashKVResult> {
    return this.log.readView((view) => hashKVAt(view, revision));
  }

  /** A hash of the whole store (not etcd's: see snapshot/store-hash.ts). */
  hash(): Promise<HashResult> {
    return this.log.readView((view) => hashOf(view));
  }

  /** etcd's Alarm: GET lists (one type, or all for none); ACTIVATE and DEACTIVATE answer the alarm changed. */
  async alarm(
    action: 'get' | 'activate' | 'deactivate',
    member: AlarmMember | { memberId: bigint; alarm?: AlarmKind },
  ): Promise<AlarmMember[]> {
    const alarms = this.log.alarms;
    if (action === 'get') return alarms.get(member.alarm);
    if (!member.alarm) return [];
    const m = { memberId: member.memberId, alarm: member.alarm };
    const changed = action === 'activate' ? await alarms.activate(m) : await alarms.deactivate(m);
    return changed ? [changed] : [];
  }

  /** The alarms raised now (local view, refreshed from the database every second). */
  activeAlarms(): AlarmMember[] {
    return this.log.alarms.get();
  }

  /** Readings for metrics: watches, the database pool and its hosts, and database outages that ended. */
  opsStats(): {
    watch: { streams: number; watchers: number };
    pool: { inUse: number; idle: number } | undefined;
    hosts: Array<{ host: string; up: boolean; active: boolean }>;
    recoveries: number;
  } {
    return { watch: this.hub.counts(), pool: this.log.poolStats(), hosts: this.log.hostHealth(), recoveries: this.log.outage.recoveries };
  }

  /** Whether this instance holds the solo lease (linearizable reads answered without SQL). */
  soloLeaseHeld(): boolean {
    return this.log.soloLeaseHeld;
  }

  /** Committed revisions not yet applied here (watch lag), read from the database. */
  watchLag(): Promise<number> {
    return this.log.lag();
  }

  /** The space quota (0 or less: none) and the size it is measured against. */
  quota(): { quotaBytes: number; sizeBytes: number } {
    return { quotaBytes: this.log.alarms.quotaBytes, sizeBytes: this.log.alarms.sizeBytes };
  }

  dbSize(): Promise<DbSize> {
    return this.log.size();
  }

  /** One cheap database round trip (GET /health); rejects when the database is unreachable. */
  ping(): Promise<void> {
    return this.log.ping();
  }
}
