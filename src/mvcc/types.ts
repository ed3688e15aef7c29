/**
 * etcd's request and response shapes as mvcc sees them: field names as in etcd's protos, revisions
 * as numbers (checked safe integers), lease IDs as bigint, keys and values as bytes. No wire format.
 */

/** mvcc answers with the revision; the rpc layer adds cluster, member and term. */
export interface Header {
  revision: number;
}

export interface KeyValue {
  key: Buffer;
  create_revision: number;
  mod_revision: number;
  version: number;
  value: Buffer;
  lease: bigint;
  /** These very fields as etcd's encoded KeyValue, when the version had them built (a read's). */
  encoded?: Buffer;
}

export enum SortOrder {
  NONE = 0,
  ASCEND = 1,
  DESCEND = 2,
}
export enum SortTarget {
  KEY = 0,
  VERSION = 1,
  CREATE = 2,
  MOD = 3,
  VALUE = 4,
}

export interface RangeRequest {
  key: Buffer;
  range_end: Buffer;
  limit: number;
  revision: number;
  sort_order: number;
  sort_target: number;
  serializable: boolean;
  keys_only: boolean;
  count_only: boolean;
  min_mod_revision: number;
  max_mod_revision: number;
  min_create_revision: number;
  max_create_revision: number;
}
export interface RangeResponse {
  header: Header;
  kvs: KeyValue[];
  more: boolean;
  count: number;
}

export interface PutRequest {
  key: Buffer;
  value: Buffer;
  lease: bigint;
  prev_kv: boolean;
  ignore_value: boolean;
  ignore_lease: boolean;
}
export interface PutResponse {
  header: Header;
  prev_kv?: KeyValue;
}

export interface DeleteRangeRequest {
  key: Buffer;
  range_end: Buffer;
  prev_kv: boolean;
}
export interface DeleteRangeResponse {
  header: Header;
  deleted: number;
  prev_kvs: KeyValue[];
}

export enum CompareResult {
  EQUAL = 0,
  GREATER = 1,
  LESS = 2,
  NOT_EQUAL = 3,
}
export enum CompareTarget {
  VERSION = 0,
  CREATE = 1,
  MOD = 2,
  VALUE = 3,
  LEASE = 4,
}
export type CompareOperand =
  | { kind: 'version'; value: number }
  | { kind: 'create_revision'; value: number }
  | { kind: 'mod_revision'; value: number }
  | { kind: 'value'; value: Buffer }
  | { kind: 'lease'; value: bigint }
  | { kind: 'none' };

export interface Compare {
  result: number;
  target: number;
  key: Buffer;
  range_end: Buffer;
  operand: CompareOperand;
}

export type RequestOp =
  | { kind: 'range'; range: RangeRequest }
  | { kind: 'put'; put: PutRequest }
  | { kind: 'delete_range'; delete_range: DeleteRangeRequest }
  | { kind: 'txn'; txn: TxnRequest }
  | { kind: 'empty' };

export type ResponseOp =
  | { kind: 'range'; range: RangeResponse }
  | { kind: 'put'; put: PutResponse }
  | { kind: 'delete_range'; delete_range: DeleteRangeResponse }
  | { kind: 'txn'; txn: TxnResponse };

export interface TxnRequest {
  compare: Compare[];
  success: RequestOp[];
  failure: RequestOp[];
}
export interface TxnResponse {
  header: Header;
  succeeded: boolean;
  responses: ResponseOp[];
}

export interface CompactionRequest {
  revision: number;
  physical: boolean;
}

export enum EventType {
  PUT = 0,
  DELETE = 1,
}
export interface Event {
  type: EventType;
  kv: KeyValue;
  prev_kv?: KeyValue;
}

export interface LeaseGrantResponse {
  header: Header;
  ID: bigint;
  TTL: number;
}
export interface LeaseRevokeResponse {
  header: Header;
}
export interface LeaseKeepAliveResponse {
  header: Header;
  ID: bigint;
  /** 0 for an unknown or expired lease, as etcd answers. */
  TTL: number;
}
export interface LeaseTimeToLiveResponse {
  header: Header;
  ID: bigint;
  /** Seconds left; -1 for an unknown lease. */
  TTL: number;
  grantedTTL: number;
  keys: Buffer[];
}
export interface LeaseLeasesResponse {
  header: Header;
  leases: bigint[];
}
export interface CompactionResponse {
  header: Header;
}

/** What the database occupies (etcd's Status dbSize and dbSizeInUse). */
export type { AlarmKind, AlarmMember, DbSize } from '../log/types';

export interface WatchCreate {
  key: Buffer;
  range_end: Buffer;
  start_revision: number;
  progress_notify: boolean;
  /** Event types to leave out: 0 = PUT (NOPUT), 1 = DELETE (NODELETE). */
  filters: number[];
  prev_kv: boolean;
  watch_id: number;
  fragment: boolean;
}

export interface WatchResponse {
  /** Revision for the response header. */
  revision: number;
  watch_id: number;
  created?: boolean;
  canceled?: boolean;
  compact_revision?: number;
  cancel_reason?: string;
  events: Event[];
}

/** Where a watch stream's responses go (the rpc layer). */
export interface WatchSink {
  /** Sends one response; returns false when the stream's buffer is full (then call drained()). */
  send(resp: WatchResponse): boolean;
}

/** One client watch stream, carrying many watchers. */
export interface WatchStream {
  /** Creates a watcher; answers `created` (or created+canceled) before any of its events. */
  create(req: WatchCreate): void;
  /** Answers a create that is not allowed: created and canceled at once, watch_id -1, with the reason. */
  refuse(reason: string): void;
  cancel(watchId: number): void;
  /** RequestProgress: answered with watch_id -1 once every watcher of the stream is synced. */
  requestProgress(): void;
  /** The sink has room again after send() returned false. */
  drained(): void;
  close(): void;
  /** Watchers and undelivered event batches held. */
  readonly held: { watchers: number; pending: number };
}
