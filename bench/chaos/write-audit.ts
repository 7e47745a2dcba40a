/**
 * Who wrote what, recorded by the database itself. Triggers added to a PostgreSQL journal store's schema log
 * every lease taken (a call's token changing, with the instance that took it) and every record appended (with
 * the call's token at that moment and the instance that appended it) to `chaos_audit`, in the order the
 * database applied them. The instance is the connection's `application_name` (PGAPPNAME, one per server
 * process), set by the bench, not by the server: it names the process that really wrote, whatever that process
 * believed it held. Audit rows commit or roll back with the writes they describe.
 *
 * The server's code is untouched: the triggers are the bench's, in the bench's schema.
 */
import pg from 'pg';

/** One audited write, in the order the database applied it. */
export interface AuditRow {
  id: number;
  callId: string;
  what: 'acquire' | 'append';
  token: number;
  /** The record's sequence number (appends only). */
  seq: number | null;
  /** The application name of the connection that wrote. */
  writer: string;
}

const NAME = /^[a-z_][a-z0-9_]{0,62}$/;

/** Install the audit table and triggers in `schema` (the store must have created its tables there). */
export async function installAudit(url: string, schema: string): Promise<void> {
  if (!NAME.test(schema)) throw new Error(`not a schema name: ${schema}`);
  const s = schema;
  await withClient(url, async (client) => {
    await client.query(`
      CREATE TABLE IF NOT EXISTS ${s}.chaos_audit (
        id BIGSERIAL PRIMARY KEY,
        call_id TEXT NOT NULL,
        what TEXT NOT NULL,
        token BIGINT NOT NULL,
        seq BIGINT,
        writer TEXT NOT NULL,
        at TIMESTAMPTZ NOT NULL DEFAULT clock_timestamp()
      );
      CREATE OR REPLACE FUNCTION ${s}.chaos_audit_lease() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF TG_OP = 'INSERT' OR NEW.token IS DISTINCT FROM OLD.token THEN
          INSERT INTO ${s}.chaos_audit (call_id, what, token, writer)
          VALUES (NEW.call_id, 'acquire', NEW.token, current_setting('application_name'));
        END IF;
        RETURN NULL;
      END $$;
      -- The append's own statement locks the call's row, so no lease can be taken between its check and this read.
      CREATE OR REPLACE FUNCTION ${s}.chaos_audit_append() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        INSERT INTO ${s}.chaos_audit (call_id, what, token, seq, writer)
        SELECT NEW.call_id, 'append', c.token, NEW.seq, current_setting('application_name')
        FROM ${s}.calls c WHERE c.call_id = NEW.call_id;
        RETURN NULL;
      END $$;
      DROP TRIGGER IF EXISTS chaos_audit_lease ON ${s}.calls;
      CREATE TRIGGER chaos_audit_lease AFTER INSERT OR UPDATE ON ${s}.calls
        FOR EACH ROW EXECUTE FUNCTION ${s}.chaos_audit_lease();
      DROP TRIGGER IF EXISTS chaos_audit_append ON ${s}.records;
      CREATE TRIGGER chaos_audit_append AFTER INSERT ON ${s}.records
        FOR EACH ROW EXECUTE FUNCTION ${s}.chaos_audit_append();
    `);
  });
}

/** Every audited write, per call, in the order the database applied them. */
export async function readAudit(url: string, schema: string): Promise<Map<string, AuditRow[]>> {
  if (!NAME.test(schema)) throw new Error(`not a schema name: ${schema}`);
  const byCall = new Map<string, AuditRow[]>();
  await withClient(url, async (client) => {
    const result = await client.query<{
      id: string;
      call_id: string;
      what: 'acquire' | 'append';
      token: string;
      seq: string | null;
      writer: string;
    }>(`SELECT id, call_id, what, token, seq, writer FROM ${schema}.chaos_audit ORDER BY id`);
    for (const r of result.rows) {
      const row: AuditRow = {
        id: Number(r.id),
        callId: r.call_id,
        what: r.what,
        token: Number(r.token),
        seq: r.seq === null ? null : Number(r.seq),
        writer: r.writer,
      };
      const list = byCall.get(row.callId);
      if (list) list.push(row);
      else byCall.set(row.callId, [row]);
    }
  });
  return byCall;
}

/** Drop `schema` and everything in it. */
export async function dropSchemaAt(url: string, schema: string): Promise<void> {
  if (!NAME.test(schema)) throw new Error(`not a schema name: ${schema}`);
  await withClient(url, (client) => client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`));
}

async function withClient<T>(url: string, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({
    connectionString: url,
    connectionTimeoutMillis: 5000,
    application_name: 'chaos-bench',
  });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end().catch(() => undefined);
  }
}
