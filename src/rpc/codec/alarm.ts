/** Maintenance.Alarm's messages, and the alarm lines Status reports. */
import type { AlarmKind, AlarmMember, Header } from '../../mvcc/types';
import type * as pb from '../messages';
import { header, type HeaderIdentity } from './header';

type AlarmAction = 'get' | 'activate' | 'deactivate';

const ACTIONS: Record<number, AlarmAction> = { 0: 'get', 1: 'activate', 2: 'deactivate' };
/** etcdserverpb.AlarmType: NONE 0, NOSPACE 1, CORRUPT 2. */
const KINDS: Record<number, AlarmKind> = { 1: 'NOSPACE', 2: 'CORRUPT' };
const KIND_NUMBERS = { NOSPACE: 1, CORRUPT: 2 } as const satisfies Record<AlarmKind, number>;

/** An action or alarm type outside the enum is treated as etcd's zero value would not be: ignored (no alarm). */
export function decodeAlarm(m: pb.AlarmRequest): { action: AlarmAction; memberId: bigint; alarm?: AlarmKind } {
  return { action: ACTIONS[m.action] ?? 'get', memberId: BigInt(m.memberID || '0'), alarm: KINDS[m.alarm] };
}

export interface AlarmResult extends Header {
  alarms: AlarmMember[];
}

export function encodeAlarm(r: AlarmResult, id: HeaderIdentity): pb.AlarmResponse {
  return {
    header: header(id, r.revision),
    alarms: r.alarms.map((a) => ({ memberID: a.memberId.toString(), alarm: KIND_NUMBERS[a.alarm] })),
  };
}

/** Status.errors: each alarm as Go's proto text of an AlarmMember ("memberID:1 alarm:NOSPACE "). */
export function alarmLines(alarms: AlarmMember[]): string[] {
  return alarms.map((a) => `memberID:${a.memberId.toString()} alarm:${a.alarm} `);
}
