/**
 * The SQLite journal store's worker thread: it owns the better-sqlite3 connection, so the fsyncs of WAL with
 * synchronous=FULL block this thread instead of the server's audio path. sqlite.ts sends `{ id, op, args }` and
 * gets `{ id, ok, value }` or `{ id, ok: false, error }` back.
 *
 * Requests run in arrival order. Consecutive appends are committed together (group commit): one BEGIN IMMEDIATE
 * ... COMMIT, so one fsync, each append in its own SAVEPOINT so a fenced or conflicting one is undone alone. No
 * append is answered before its COMMIT, and a read sent after an append was answered runs after that COMMIT.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { parentPort, workerData } from 'node:worker_threads';
import Database from 'better-sqlite3';
import { SwitchboardError } from '../errors.ts';
import {
  checkSchemaVersion,
  type CallSummary,
  type Lease,
  type LineRewrite,
  type StoredRecord,
} from './store.ts';

/** What sqlite.ts asks for; `args` are the JournalStore method's arguments (open takes the location). */
export type Op =
  | 'open'
  | 'acquire'
  | 'append'
  | 'read'
  | 'summary'
  | 'list'
  | 'release'
  | 'callIds'
  | 'endedBefore'
  | 'rewrite'
  | 'erase'
  | 'secret'
  | 'close';

/** The workerData sqlite.ts starts this file with; sqlite.ts also imports this file, for MIGRATIONS only. */
export const WORKER_DATA = 'switchboard-sqlite-journal';

export interface Request {
  id: number;
  op: Op;
  args: unknown[];
}

/** An error as it crosses the thread boundary; `code` is a SwitchboardError code, or a driver's code, or null. */
export interface WireError {
  switchboard: boolean;
  code: string | null;
  message: string;
  data: Record<string, unknown>;
  retryable: boolean;
}

export type Response = { id: number; ok: true; value: unknown } | { id: number; ok: false; error: WireError };

/** What `open` answers: the main thread logs it (the logger lives there). */
export interface Opened {
  from: number;
}

type Migration = (db: Database.Database) => void;

/** Applied in order from the stored schema_version; never edit one that has shipped, add another. */
export const MIGRATIONS: readonly Migration[] = [
  (db) => {
    db.exec(`
      CREATE TABLE calls (
        call_id TEXT PRIMARY KEY,
        flow TEXT,
        owner TEXT,
        token INTEGER NOT NULL,
        records INTEGER NOT NULL DEFAULT 0,
        first_at INTEGER,
        last_at INTEGER,
        ended INTEGER NOT NULL DEFAULT 0
      );
      CREATE TABLE records (
        call_id TEXT NOT NULL,
        seq INTEGER NOT NULL,
        kind TEXT NOT NULL,
        at INTEGER NOT NULL,
        line TEXT NOT NULL,
        PRIMARY KEY (call_id, seq)
      ) WITHOUT ROWID;
      CREATE INDEX calls_last_at ON calls(last_at);
    `);
  },
];

interface CallRow {
  call_id: string;
  flow: string | null;
  owner: string | null;
  token: number;
  records: number;
  first_at: number | null;
  last_at: number | null;
  ended: number;
}

interface Statements {
  acquire: Database.Statement<[string, string], { token: number }>;
  token: Database.Statement<[string], { token: number }>;
  insert: Database.Statement<[string, number, string, number, string]>;
  update: Database.Statement<
    [{ count: number; firstAt: number; lastAt: number; ended: number; flow: string | null; callId: string }]
  >;
  release: Database.Statement<[string, number]>;
  read: Database.Statement<[string], StoredRecord>;
  summary: Database.Statement<[string], CallRow>;
  list: Database.Statement<[number], CallRow>;
  callIds: Database.Statement<[string, number], { call_id: string }>;
  endedBefore: Database.Statement<[number, number], { call_id: string }>;
  rewrite: Database.Statement<[string, string, number, string]>;
  ended: Database.Statement<[string], { ended: number }>;
  eraseRecords: Database.Statement<[string]>;
  eraseCall: Database.Statement<[string]>;
}

interface Connection {
  db: Database.Database;
  statements: Statements;
  secret: Buffer;
  /** One append; inside `group` it runs as a SAVEPOINT, alone as its own BEGIN IMMEDIATE transaction. */
  append: Database.Transaction<(lease: Lease, records: readonly StoredRecord[]) => void>;
  /** Appends in one transaction; each outcome is kept: undefined when stored, else its error. */
  group: Database.Transaction<(requests: readonly Request[]) => unknown[]>;
}

let conn: Connection | null = null;
const queue: Request[] = [];
let scheduled = false;

// Imported on the main thread (for MIGRATIONS) this file must not listen to any port.
const port = workerData === WORKER_DATA ? parentPort : null;
// Requests come in batches (all a main-thread turn sent), answers go back in batches (all of a drain): one
// message each way instead of one per append, whose structured-clone overhead the main thread pays.
port?.on('message', (requests: Request[]) => {
  for (const request of requests) queue.push(request);
  // Every message already delivered is queued before the drain, so appends sent together commit together, and
  // appends sent while a COMMIT's fsync runs form the next group.
  if (!scheduled) {
    scheduled = true;
    setImmediate(drain);
  }
});

function drain(): void {
  scheduled = false;
  const requests = queue.splice(0);
  drainRequests(requests);
  port!.postMessage(answers.splice(0));
}

const answers: Response[] = [];

function drainRequests(requests: Request[]): void {
  let i = 0;
  while (i < requests.length) {
    if (requests[i]!.op === 'append' && conn) {
      let j = i;
      while (j < requests.length && requests[j]!.op === 'append') j++;
      appendGroup(requests.slice(i, j));
      i = j;
    } else {
      const request = requests[i++]!;
      try {
        answer({ id: request.id, ok: true, value: run(request) });
      } catch (err) {
        answer({ id: request.id, ok: false, error: toWire(err) });
      }
    }
  }
}

function answer(response: Response): void {
  answers.push(response);
}

function appendGroup(requests: Request[]): void {
  let outcomes: unknown[];
  try {
    outcomes = conn!.group.immediate(requests);
  } catch {
    // Something other than a fence or a conflict (busy, I/O, a full disk) failed the whole group and SQLite may
    // have rolled it all back: run each append in its own transaction, as before group commit, so each gets
    // its own outcome.
    outcomes = requests.map((r) => {
      try {
        conn!.append.immediate(...(r.args as [Lease, StoredRecord[]]));
        return undefined;
      } catch (err) {
        return err;
      }
    });
  }
  requests.forEach((r, k) => {
    const err = outcomes[k];
    answer(
      err === undefined
        ? { id: r.id, ok: true, value: undefined }
        : { id: r.id, ok: false, error: toWire(err) },
    );
  });
}

function run(request: Request): unknown {
  const { op, args } = request;
  if (op === 'open') return open(args[0] as string);
  if (op === 'close') {
    conn?.db.close();
    conn = null;
    return undefined;
  }
  if (!conn) throw new SwitchboardError('STORE_UNAVAILABLE', 'the SQLite store is not open');
  const s = conn.statements;
  switch (op) {
    case 'acquire': {
      const [callId, owner] = args as [string, string];
      const row = s.acquire.get(callId, owner)!;
      return { callId, owner, token: row.token } satisfies Lease;
    }
    case 'append':
      conn.append.immediate(...(args as [Lease, StoredRecord[]]));
      return undefined;
    case 'read':
      return s.read.all(args[0] as string);
    case 'summary': {
      const row = s.summary.get(args[0] as string);
      return row ? toSummary(row) : null;
    }
    case 'list':
      return s.list.all(args[0] as number).map(toSummary);
    case 'release': {
      const lease = args[0] as Lease;
      s.release.run(lease.callId, lease.token);
      return undefined;
    }
    case 'callIds': {
      const [after, limit] = args as [string | null, number];
      // '' sorts before every id: a walk from the start.
      return s.callIds.all(after ?? '', limit).map((r) => r.call_id);
    }
    case 'endedBefore':
      return s.endedBefore.all(...(args as [number, number])).map((r) => r.call_id);
    case 'rewrite': {
      const [callId, lines] = args as [string, LineRewrite[]];
      return conn.db.transaction(() =>
        lines.reduce((n, l) => n + s.rewrite.run(l.to, callId, l.seq, l.from).changes, 0),
      )();
    }
    case 'erase': {
      const callId = args[0] as string;
      return conn.db.transaction(() => {
        if (s.ended.get(callId)?.ended !== 1) return null;
        const removed = s.eraseRecords.run(callId).changes;
        s.eraseCall.run(callId);
        return removed;
      })();
    }
    case 'secret':
      return conn.secret;
  }
}

function open(location: string): Opened {
  if (conn) return { from: MIGRATIONS.length };
  let db: Database.Database;
  try {
    if (location !== ':memory:') mkdirSync(dirname(location), { recursive: true });
    db = new Database(location);
  } catch (err) {
    throw unavailable(location, err);
  }
  try {
    // busy_timeout first: switching to WAL needs the lock another process may hold.
    db.pragma('busy_timeout = 5000');
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = FULL');
    // An erased call's pages are overwritten, not only unlinked: erasure leaves nothing to recover from the file.
    db.pragma('secure_delete = ON');
    const { from, secret } = migrate(db, location);
    const statements = prepare(db);
    const append = db.transaction((lease: Lease, records: readonly StoredRecord[]) =>
      appendNow(statements, lease, records),
    );
    const group = db.transaction((requests: readonly Request[]) =>
      requests.map((r) => {
        try {
          append(...(r.args as [Lease, StoredRecord[]]));
          return undefined;
        } catch (err) {
          // A fence or a conflict was rolled back to its savepoint; anything else fails the group.
          if (err instanceof SwitchboardError) return err;
          throw err;
        }
      }),
    );
    conn = { db, statements, secret, append, group };
    return { from };
  } catch (err) {
    db.close();
    if (err instanceof SwitchboardError) throw err;
    throw unavailable(location, err);
  }
}

/** Runs inside the transaction (or savepoint): the token check and the writes see the same state. */
function appendNow(s: Statements, lease: Lease, records: readonly StoredRecord[]): void {
  const current = s.token.get(lease.callId)?.token ?? null;
  if (current !== lease.token) throw fenced(lease, current);
  if (records.length === 0) return;
  let firstAt = Infinity;
  let lastAt = -Infinity;
  let ended = 0;
  let flow: string | null = null;
  for (const r of records) {
    try {
      s.insert.run(lease.callId, r.seq, r.kind, r.at, r.line);
    } catch (err) {
      if ((err as { code?: string }).code === 'SQLITE_CONSTRAINT_PRIMARYKEY') throw conflict(lease, r.seq);
      throw err;
    }
    firstAt = Math.min(firstAt, r.at);
    lastAt = Math.max(lastAt, r.at);
    if (r.kind === 'end') ended = 1;
    if (r.flow !== undefined) flow = r.flow;
  }
  s.update.run({ count: records.length, firstAt, lastAt, ended, flow, callId: lease.callId });
}

/** Bring the schema up to this build's version in one write transaction; returns the version found. */
function migrate(db: Database.Database, location: string): { from: number; secret: Buffer } {
  return db
    .transaction(() => {
      db.exec('CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT)');
      const get = db.prepare<[string], { value: string }>('SELECT value FROM meta WHERE key = ?');
      const from = Number(get.get('schema_version')?.value ?? 0);
      checkSchemaVersion(location, from, MIGRATIONS.length);
      for (const migration of MIGRATIONS.slice(from)) migration(db);
      const set = db.prepare<[string, string]>(
        'INSERT INTO meta(key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value',
      );
      set.run('schema_version', String(MIGRATIONS.length));
      // Made once, by whichever process creates the file; every later open reads the same one.
      db.prepare<[string]>(
        "INSERT INTO meta(key, value) VALUES ('secret', ?) ON CONFLICT(key) DO NOTHING",
      ).run(randomBytes(32).toString('hex'));
      return { from, secret: Buffer.from(get.get('secret')!.value, 'hex') };
    })
    .immediate();
}

function prepare(db: Database.Database): Statements {
  return {
    acquire: db.prepare(
      `INSERT INTO calls(call_id, owner, token) VALUES (?, ?, 1)
       ON CONFLICT(call_id) DO UPDATE SET token = token + 1, owner = excluded.owner
       RETURNING token`,
    ),
    token: db.prepare('SELECT token FROM calls WHERE call_id = ?'),
    insert: db.prepare('INSERT INTO records(call_id, seq, kind, at, line) VALUES (?, ?, ?, ?, ?)'),
    update: db.prepare(
      `UPDATE calls SET records = records + @count, first_at = min(coalesce(first_at, @firstAt), @firstAt),
         last_at = max(coalesce(last_at, @lastAt), @lastAt), ended = max(ended, @ended), flow = coalesce(@flow, flow)
       WHERE call_id = @callId`,
    ),
    release: db.prepare('UPDATE calls SET owner = NULL WHERE call_id = ? AND token = ?'),
    read: db.prepare('SELECT seq, kind, at, line FROM records WHERE call_id = ? ORDER BY seq'),
    summary: db.prepare('SELECT * FROM calls WHERE call_id = ?'),
    // SQLite sorts NULL lowest, so calls with no records yet come last.
    list: db.prepare('SELECT * FROM calls ORDER BY last_at DESC, call_id LIMIT ?'),
    callIds: db.prepare('SELECT call_id FROM calls WHERE call_id > ? ORDER BY call_id LIMIT ?'),
    endedBefore: db.prepare(
      'SELECT call_id FROM calls WHERE ended = 1 AND last_at < ? ORDER BY last_at, call_id LIMIT ?',
    ),
    rewrite: db.prepare('UPDATE records SET line = ? WHERE call_id = ? AND seq = ? AND line = ?'),
    ended: db.prepare('SELECT ended FROM calls WHERE call_id = ?'),
    eraseRecords: db.prepare('DELETE FROM records WHERE call_id = ?'),
    eraseCall: db.prepare('DELETE FROM calls WHERE call_id = ?'),
  };
}

function toSummary(row: CallRow): CallSummary {
  return {
    callId: row.call_id,
    flow: row.flow,
    records: row.records,
    firstAt: row.first_at,
    lastAt: row.last_at,
    ended: row.ended !== 0,
    owner: row.owner,
    token: row.token,
  };
}

function toWire(err: unknown): WireError {
  if (err instanceof SwitchboardError) {
    return {
      switchboard: true,
      code: err.code,
      message: err.message,
      data: { ...err.data },
      retryable: err.retryable,
    };
  }
  const code = (err as { code?: unknown } | null)?.code;
  return {
    switchboard: false,
    code: typeof code === 'string' ? code : null,
    message: err instanceof Error ? err.message : String(err),
    data: {},
    retryable: false,
  };
}

function unavailable(location: string, err: unknown): SwitchboardError {
  return new SwitchboardError(
    'STORE_UNAVAILABLE',
    `cannot open SQLite file ${location}: ${(err as Error).message}`,
    { location },
    { cause: err },
  );
}

function fenced(lease: Lease, current: number | null): SwitchboardError {
  return new SwitchboardError(
    'JOURNAL_FENCED',
    `call ${lease.callId} was taken: lease token ${lease.token}, current token ${current ?? 'none'}`,
    { callId: lease.callId, token: lease.token, current },
  );
}

function conflict(lease: Lease, seq: number | null): SwitchboardError {
  return new SwitchboardError(
    'JOURNAL_CONFLICT',
    `call ${lease.callId} already has a record with sequence number ${seq ?? '(unknown)'}`,
    { callId: lease.callId, seq },
  );
}
