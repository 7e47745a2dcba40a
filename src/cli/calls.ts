/**
 * `switchboard calls list | export CALL_ID`: the calls in the journal store STORE_URL names, and one call's
 * journal as JSON lines, the format `switchboard replay` reads and `test/replay/` keeps.
 */
import { parseArgs } from 'node:util';
import { readJournal } from '../call/call-journal.ts';
import { isSwitchboardError } from '../errors.ts';
import { openStore } from '../journal/open-store.ts';
import { encodeRecord } from '../journal/records.ts';
import type { CallSummary } from '../journal/store.ts';
import { Logger } from '../observability/logger.ts';

const HELP = `usage: switchboard calls list [--limit N]
       switchboard calls export CALL_ID > call.jsonl

  list     the most recently active calls: id, flow, records, first and last record, open or ended, holder
  export   one call's journal as JSON lines, for switchboard replay and test/replay/

The store is STORE_URL's (sqlite:./data/switchboard.db unless set; postgres://... for a shared one).
Exit status: 0 on success; 1 when the store cannot be read or has no journal for CALL_ID; 2 for a usage error.`;

const NAME = 'switchboard calls';

export async function main(args: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args,
      allowPositionals: true,
      options: { limit: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
    });
  } catch (err) {
    console.error(`${NAME}: ${(err as Error).message}\n\n${HELP}`);
    return 2;
  }
  const [command, ...rest] = parsed.positionals;
  if (parsed.values.help) {
    console.log(HELP);
    return 0;
  }
  const limit = Number(parsed.values.limit ?? 50);
  if (
    (command === 'list' && (rest.length > 0 || !Number.isInteger(limit) || limit < 1)) ||
    (command === 'export' && rest.length !== 1) ||
    (command !== 'list' && command !== 'export')
  ) {
    console.error(`${NAME}: expected "list [--limit N]" or "export CALL_ID"\n\n${HELP}`);
    return 2;
  }
  const logger = new Logger({ level: 'warn', sink: (r) => process.stderr.write(JSON.stringify(r) + '\n') });
  const url = process.env.STORE_URL?.trim() || 'sqlite:./data/switchboard.db';
  let store;
  try {
    store = await openStore(url, { logger });
  } catch (err) {
    console.error(`${NAME}: ${isSwitchboardError(err) ? err.message : String(err)}`);
    return 1;
  }
  try {
    if (command === 'list') {
      const calls = await store.list(limit);
      if (calls.length === 0) console.log(`no calls in ${store.kind} ${store.location}`);
      for (const call of calls) console.log(formatCall(call));
      return 0;
    }
    const callId = rest[0]!;
    const records = await readJournal(store, callId);
    if (records.length === 0) {
      console.error(`${NAME}: no journal for call ${callId} in ${store.kind} ${store.location}`);
      return 1;
    }
    process.stdout.write(records.map((r) => encodeRecord(r) + '\n').join(''));
    return 0;
  } catch (err) {
    console.error(`${NAME}: ${isSwitchboardError(err) ? `${err.code}: ${err.message}` : String(err)}`);
    return 1;
  } finally {
    await store.close();
  }
}

function formatCall(c: CallSummary): string {
  const time = (ms: number | null): string => (ms === null ? '-' : new Date(ms).toISOString());
  const status = c.ended ? 'ended' : c.owner ? `open, held by ${c.owner}` : 'open';
  return `${c.callId}  ${c.flow ?? '-'}  ${c.records} records  ${time(c.firstAt)} .. ${time(c.lastAt)}  ${status}`;
}
