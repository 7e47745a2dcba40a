/**
 * Where call journals are kept: one interface, two stores. SQLite (better-sqlite3, WAL, synchronous=FULL) is the
 * embedded default; PostgreSQL (pg) lets several instances share calls. Both keep records as the encoded lines of
 * records.ts, so a journal reads the same from either and exports as JSON lines unchanged.
 *
 * One writer per call: a call's lease has a fencing token that grows each time the call is taken, and every
 * append checks it in the same transaction, so an instance that lost the call (paused, partitioned, presumed
 * dead) can never write after another instance took it.
 */
import { SwitchboardError } from '../errors.ts';

/** The right to write a call's journal, held by `owner` (an instance id) until another instance takes it. */
export interface Lease {
  callId: string;
  owner: string;
  /** Fencing token: greater than every token handed out for this call before. */
  token: number;
}

/** One record as the store keeps it: the encoded line, with what the store indexes. */
export interface StoredRecord {
  seq: number;
  kind: string;
  /** ms since the epoch. */
  at: number;
  line: string;
  /** The flow the call runs; given with the call's `start` record. */
  flow?: string;
}

/** One stored line to replace: the record `seq`, its current text and the new one. */
export interface LineRewrite {
  seq: number;
  from: string;
  to: string;
}

export interface CallSummary {
  callId: string;
  flow: string | null;
  records: number;
  /** ms since the epoch of the first and last records; null when the call has none. */
  firstAt: number | null;
  lastAt: number | null;
  /** The journal has its `end` record. */
  ended: boolean;
  /** The instance holding the lease and the current fencing token. */
  owner: string | null;
  token: number;
}

export interface JournalStore {
  readonly kind: 'sqlite' | 'postgres' | 'memory';
  /** Where it is, for banners and logs, without credentials. */
  readonly location: string;
  /** Connect, and create or migrate the schema (STORE_VERSION_UNSUPPORTED if a newer build made it). */
  open(): Promise<void>;
  /**
   * Take the call's lease for `owner`, whoever held it: the new token fences every earlier holder out. Creates
   * the call when it is new.
   */
  acquire(callId: string, owner: string): Promise<Lease>;
  /**
   * Append records in one transaction, only if `lease.token` is still the call's token (else JOURNAL_FENCED).
   * A sequence number already stored is refused (JOURNAL_CONFLICT); nothing of the batch is kept then.
   */
  append(lease: Lease, records: readonly StoredRecord[]): Promise<void>;
  /** The call's records in sequence order; empty when the call is unknown. */
  read(callId: string): Promise<StoredRecord[]>;
  /** The call's summary, or null when unknown. */
  summary(callId: string): Promise<CallSummary | null>;
  /** Calls, most recently active first. */
  list(limit: number): Promise<CallSummary[]>;
  /** Give the lease up (the token stays, so the next acquire still fences this holder). No-op if not held. */
  release(lease: Lease): Promise<void>;
  /** Call ids in their sort order, the first `limit` after `after` (null: from the start): a walk over every call. */
  callIds(after: string | null, limit: number): Promise<string[]>;
  /** Ended calls whose last record is older than `before` (ms since the epoch), oldest first, at most `limit`. */
  endedBefore(before: number, limit: number): Promise<string[]>;
  /**
   * Replace stored lines in place, each only if the line is still `from` (a concurrent rewrite wins, nothing is
   * lost): for re-encryption under a new key. Resolves with how many lines were replaced.
   */
  rewrite(callId: string, lines: readonly LineRewrite[]): Promise<number>;
  /**
   * Delete an ended call and its records; resolves with how many records went, or null (nothing deleted) when
   * the call is still open or unknown: an open call is never erased under a live conversation.
   */
  erase(callId: string): Promise<number | null>;
  /**
   * A random secret made when the store was created, shared by every instance using it: resume tokens are
   * signed with it, so any instance can check a token another issued.
   */
  secret(): Promise<Buffer>;
  close(): Promise<void>;
}

/**
 * Both stores keep a schema version and migrate forward from it; a version this build does not know was made by
 * a newer build, whose schema this one must not touch: STORE_VERSION_UNSUPPORTED.
 */
export function checkSchemaVersion(location: string, found: number, supported: number): void {
  if (found <= supported) return;
  throw new SwitchboardError(
    'STORE_VERSION_UNSUPPORTED',
    `${location} has schema version ${found}, this build knows up to ${supported}; upgrade Switchboard`,
    { location, version: found, supported },
  );
}
