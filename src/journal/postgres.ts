/**
 * The shared journal store: PostgreSQL through a pg pool, so several instances can hold calls in one database
 * (optionally in a schema of their own, `?schema=NAME`). An append is a single statement: the lease check, the
 * call's counters and the record inserts commit or fail together in one round trip.
 */
import { randomBytes } from 'node:crypto';
import { userInfo } from 'node:os';
import pg from 'pg';
import type { Pool, PoolClient, QueryResultRow } from 'pg';
import { SwitchboardError } from '../errors.ts';
import type { Logger } from '../observability/logger.ts';
import {
  checkSchemaVersion,
  type CallSummary,
  type JournalStore,
  type Lease,
  type LineRewrite,
  type StoredRecord,
} from './store.ts';

export interface PostgresStoreOptions {
  logger: Logger;
  /** Largest number of connections; default 10. */
  poolSize?: number;
  /** How long a connection or a statement may take before it fails as STORE_UNAVAILABLE; default 5 s. */
  timeoutMs?: number;
}

/**
 * A database that stops answering (paused, or cut off by the network: no error, just silence) must not hold a
 * call's journal forever: past this, the statement fails as STORE_UNAVAILABLE and the call is handed back to be
 * resumed where the store can be reached. An append normally takes milliseconds.
 */
export const POSTGRES_TIMEOUT_MS = 5000;

type Migration = (client: PoolClient) => Promise<void>;

/** Applied in order from the stored schema_version; never edit one that has shipped, add another. */
const MIGRATIONS: readonly Migration[] = [
  async (client) => {
    await client.query(`
      CREATE TABLE calls (
        call_id TEXT PRIMARY KEY,
        flow TEXT,
        owner TEXT,
        token BIGINT NOT NULL,
        records BIGINT NOT NULL DEFAULT 0,
        first_at BIGINT,
        last_at BIGINT,
        ended BOOLEAN NOT NULL DEFAULT false
      );
      CREATE TABLE records (
        call_id TEXT NOT NULL,
        seq BIGINT NOT NULL,
        kind TEXT NOT NULL,
        at BIGINT NOT NULL,
        line TEXT NOT NULL,
        PRIMARY KEY (call_id, seq)
      );
      CREATE INDEX calls_last_at ON calls (last_at DESC NULLS LAST);
    `);
  },
];

/** The schema version this build creates and reads. */
export const POSTGRES_SCHEMA_VERSION = MIGRATIONS.length;

/** Serialises schema creation and migration between instances starting together ("SWBJ"). */
const MIGRATION_LOCK = 0x5357424a;

/** Lower-case identifiers only: they are used unquoted, and search_path would fold other case anyway. */
const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

/** Errors that mean the database cannot be reached, rather than that a statement was wrong. */
const UNREACHABLE = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EPIPE',
  '57P01', // admin_shutdown
  '57P02', // crash_shutdown
  '57P03', // cannot_connect_now
  '53300', // too_many_connections
]);

const APPEND = `
  WITH lease AS (
    UPDATE calls SET records = records + $7, first_at = LEAST(first_at, $8), last_at = GREATEST(last_at, $9),
      ended = ended OR $10, flow = COALESCE($11, flow)
    WHERE call_id = $1 AND token = $2
    RETURNING call_id
  )
  INSERT INTO records (call_id, seq, kind, at, line)
  SELECT lease.call_id, r.seq, r.kind, r.at, r.line
  FROM lease, unnest($3::bigint[], $4::text[], $5::bigint[], $6::text[]) AS r(seq, kind, at, line)`;

interface CallRow {
  call_id: string;
  flow: string | null;
  owner: string | null;
  token: string;
  records: string;
  first_at: string | null;
  last_at: string | null;
  ended: boolean;
}

export class PostgresStore implements JournalStore {
  readonly kind = 'postgres';
  readonly location: string;
  readonly #logger: Logger;
  readonly #schema: string | null;
  readonly #password: string;
  readonly #pool: Pool;
  #secret: Buffer | null = null;

  /** `url` is postgres://user:password@host:port/db, optionally with `?schema=NAME`. */
  constructor(url: string, options: PostgresStoreOptions) {
    this.#logger = options.logger;
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      throw new SwitchboardError('CONFIG_INVALID', 'STORE_URL is not a valid postgres:// URL');
    }
    this.#password = decodeURIComponent(parsed.password);
    const schema = parsed.searchParams.get('schema');
    if (schema !== null && !SCHEMA_NAME.test(schema)) {
      throw new SwitchboardError(
        'CONFIG_INVALID',
        'the schema in STORE_URL must be a lower-case SQL identifier (letters, digits, _)',
        { schema },
      );
    }
    this.#schema = schema;
    parsed.searchParams.delete('schema');
    // Like libpq (psql), default the user to the operating system's; pg would send none and be refused.
    if (!parsed.username && !process.env.PGUSER) parsed.username = encodeURIComponent(userInfo().username);
    const connectionString = parsed.toString();
    const shown = new URL(url);
    shown.password = '';
    this.location = shown.toString();
    this.#pool = new pg.Pool({
      connectionString,
      max: options.poolSize ?? 10,
      connectionTimeoutMillis: options.timeoutMs ?? POSTGRES_TIMEOUT_MS,
      // pg gives up waiting for the answer; the pool then drops that connection.
      query_timeout: options.timeoutMs ?? POSTGRES_TIMEOUT_MS,
      ...(schema ? { options: `-c search_path=${schema}` } : {}),
    });
    // An idle connection dropped by the server must not crash the process; the next query reconnects.
    this.#pool.on('error', (err) =>
      this.#logger.warn('journal store connection lost', { err: this.#scrub(err) }),
    );
  }

  async open(): Promise<void> {
    if (this.#secret) return;
    let client: PoolClient;
    try {
      client = await this.#pool.connect();
    } catch (err) {
      throw this.#unavailable(err);
    }
    try {
      await client.query('BEGIN');
      await client.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK]);
      if (this.#schema) await client.query(`CREATE SCHEMA IF NOT EXISTS ${this.#schema}`);
      await client.query('CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT)');
      const found = await client.query<{ value: string }>(
        "SELECT value FROM meta WHERE key = 'schema_version'",
      );
      const from = Number(found.rows[0]?.value ?? 0);
      checkSchemaVersion(this.location, from, MIGRATIONS.length);
      for (const migration of MIGRATIONS.slice(from)) await migration(client);
      await client.query(
        `INSERT INTO meta (key, value) VALUES ('schema_version', $1)
         ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value`,
        [String(MIGRATIONS.length)],
      );
      // Made once, by whichever instance creates the schema; every later open reads the same one.
      await client.query("INSERT INTO meta (key, value) VALUES ('secret', $1) ON CONFLICT (key) DO NOTHING", [
        randomBytes(32).toString('hex'),
      ]);
      const secret = await client.query<{ value: string }>("SELECT value FROM meta WHERE key = 'secret'");
      await client.query('COMMIT');
      this.#secret = Buffer.from(secret.rows[0]!.value, 'hex');
      this.#logger.info('journal store opened', {
        store: 'postgres',
        location: this.location,
        schemaVersion: MIGRATIONS.length,
        migratedFrom: from,
      });
    } catch (err) {
      await client.query('ROLLBACK').catch(() => undefined);
      if (err instanceof SwitchboardError) throw err;
      throw this.#unavailable(err, false);
    } finally {
      client.release();
    }
  }

  async acquire(callId: string, owner: string): Promise<Lease> {
    const result = await this.#query<{ token: string }>(
      `INSERT INTO calls (call_id, owner, token) VALUES ($1, $2, 1)
       ON CONFLICT (call_id) DO UPDATE SET token = calls.token + 1, owner = EXCLUDED.owner
       RETURNING token`,
      [callId, owner],
    );
    return { callId, owner, token: Number(result.rows[0]!.token) };
  }

  async append(lease: Lease, records: readonly StoredRecord[]): Promise<void> {
    if (records.length === 0) {
      // Nothing to write, but the caller still learns whether it holds the call.
      const current = await this.#currentToken(lease.callId);
      if (current !== lease.token) throw fenced(lease, current);
      return;
    }
    let firstAt = Infinity;
    let lastAt = -Infinity;
    let ended = false;
    let flow: string | null = null;
    for (const r of records) {
      firstAt = Math.min(firstAt, r.at);
      lastAt = Math.max(lastAt, r.at);
      if (r.kind === 'end') ended = true;
      if (r.flow !== undefined) flow = r.flow;
    }
    let inserted: number;
    try {
      // Under READ COMMITTED, an UPDATE that waited for a concurrent acquire re-checks `token = $2` against
      // the committed row, so a stale lease updates nothing and the INSERT, reading from it, stores nothing.
      const result = await this.#query(APPEND, [
        lease.callId,
        lease.token,
        records.map((r) => r.seq),
        records.map((r) => r.kind),
        records.map((r) => r.at),
        records.map((r) => r.line),
        records.length,
        firstAt,
        lastAt,
        ended,
        flow,
      ]);
      inserted = result.rowCount ?? 0;
    } catch (err) {
      if ((err as { code?: string }).code === '23505') throw conflict(lease, conflictingSeq(err), err);
      throw err;
    }
    if (inserted === 0) throw fenced(lease, await this.#currentToken(lease.callId));
  }

  async read(callId: string): Promise<StoredRecord[]> {
    const result = await this.#query<{ seq: string; kind: string; at: string; line: string }>(
      'SELECT seq, kind, at, line FROM records WHERE call_id = $1 ORDER BY seq',
      [callId],
    );
    return result.rows.map((r) => ({ seq: Number(r.seq), kind: r.kind, at: Number(r.at), line: r.line }));
  }

  async summary(callId: string): Promise<CallSummary | null> {
    const result = await this.#query<CallRow>('SELECT * FROM calls WHERE call_id = $1', [callId]);
    return result.rows[0] ? toSummary(result.rows[0]) : null;
  }

  async list(limit: number): Promise<CallSummary[]> {
    const result = await this.#query<CallRow>(
      'SELECT * FROM calls ORDER BY last_at DESC NULLS LAST, call_id LIMIT $1',
      [limit],
    );
    return result.rows.map(toSummary);
  }

  async release(lease: Lease): Promise<void> {
    await this.#query('UPDATE calls SET owner = NULL WHERE call_id = $1 AND token = $2', [
      lease.callId,
      lease.token,
    ]);
  }

  async callIds(after: string | null, limit: number): Promise<string[]> {
    const result = await this.#query<{ call_id: string }>(
      'SELECT call_id FROM calls WHERE call_id > $1 ORDER BY call_id LIMIT $2',
      [after ?? '', limit],
    );
    return result.rows.map((r) => r.call_id);
  }

  async endedBefore(before: number, limit: number): Promise<string[]> {
    const result = await this.#query<{ call_id: string }>(
      'SELECT call_id FROM calls WHERE ended AND last_at < $1 ORDER BY last_at, call_id LIMIT $2',
      [before, limit],
    );
    return result.rows.map((r) => r.call_id);
  }

  async rewrite(callId: string, lines: readonly LineRewrite[]): Promise<number> {
    if (lines.length === 0) return 0;
    const result = await this.#query(
      `UPDATE records AS r SET line = c.next
       FROM unnest($2::bigint[], $3::text[], $4::text[]) AS c(seq, prev, next)
       WHERE r.call_id = $1 AND r.seq = c.seq AND r.line = c.prev`,
      [callId, lines.map((l) => l.seq), lines.map((l) => l.from), lines.map((l) => l.to)],
    );
    return result.rowCount ?? 0;
  }

  async erase(callId: string): Promise<number | null> {
    // One statement: the call row goes only if ended, and its records only with it.
    const result = await this.#query<{ erased: string }>(
      `WITH call AS (DELETE FROM calls WHERE call_id = $1 AND ended RETURNING call_id),
         gone AS (DELETE FROM records r USING call WHERE r.call_id = call.call_id RETURNING 1)
       SELECT (SELECT count(*) FROM call) AS calls, (SELECT count(*) FROM gone) AS erased`,
      [callId],
    );
    const row = result.rows[0] as { calls: string; erased: string } | undefined;
    return row && Number(row.calls) === 1 ? Number(row.erased) : null;
  }

  async secret(): Promise<Buffer> {
    if (!this.#secret) throw new SwitchboardError('STORE_UNAVAILABLE', 'the PostgreSQL store is not open');
    return Buffer.from(this.#secret);
  }

  async close(): Promise<void> {
    if (!this.#pool.ended) await this.#pool.end();
  }

  async #currentToken(callId: string): Promise<number | null> {
    const result = await this.#query<{ token: string }>('SELECT token FROM calls WHERE call_id = $1', [
      callId,
    ]);
    return result.rows[0] ? Number(result.rows[0].token) : null;
  }

  async #query<R extends QueryResultRow = QueryResultRow>(text: string, values: unknown[]) {
    try {
      return await this.#pool.query<R>(text, values);
    } catch (err) {
      const code = (err as { code?: string }).code;
      if ((code !== undefined && (UNREACHABLE.has(code) || code.startsWith('08'))) || isTerminated(err)) {
        throw this.#unavailable(err);
      }
      throw err;
    }
  }

  /** Retryable when the server was unreachable or dropped the connection: it may be back for the next query. */
  #unavailable(err: unknown, retryable = true): SwitchboardError {
    const message = this.#scrub(err instanceof Error ? err.message : String(err));
    return new SwitchboardError(
      'STORE_UNAVAILABLE',
      `cannot use PostgreSQL at ${this.location}: ${message}`,
      { location: this.location, code: (err as { code?: unknown }).code ?? null },
      { cause: err, retryable },
    );
  }

  /** The password never reaches a message or a log, whatever the driver put in its error text. */
  #scrub<T>(value: T): T {
    if (!this.#password || typeof value !== 'string') return value;
    return value.split(this.#password).join('***') as T;
  }
}

/** pg's words for a connection that broke, or a server that did not answer in time (the two timeouts). */
const CONNECTION_LOST =
  /Connection terminated|connection timeout|Client has encountered|Query read timeout|timeout exceeded when trying/i;

function isTerminated(err: unknown): boolean {
  return err instanceof Error && CONNECTION_LOST.test(err.message);
}

/** The sequence number a unique violation names: `Key (call_id, seq)=(CA1, 2) already exists.` */
function conflictingSeq(err: unknown): number | null {
  const m = /, (\d+)\) already exists/.exec((err as { detail?: string }).detail ?? '');
  return m ? Number(m[1]) : null;
}

function toSummary(row: CallRow): CallSummary {
  return {
    callId: row.call_id,
    flow: row.flow,
    records: Number(row.records),
    firstAt: row.first_at === null ? null : Number(row.first_at),
    lastAt: row.last_at === null ? null : Number(row.last_at),
    ended: row.ended,
    owner: row.owner,
    token: Number(row.token),
  };
}

function fenced(lease: Lease, current: number | null): SwitchboardError {
  return new SwitchboardError(
    'JOURNAL_FENCED',
    `call ${lease.callId} was taken: lease token ${lease.token}, current token ${current ?? 'none'}`,
    { callId: lease.callId, token: lease.token, current },
  );
}

function conflict(lease: Lease, seq: number | null, cause: unknown): SwitchboardError {
  return new SwitchboardError(
    'JOURNAL_CONFLICT',
    `call ${lease.callId} already has a record with sequence number ${seq ?? '(unknown)'}`,
    { callId: lease.callId, seq },
    { cause },
  );
}
