/**
 * `switchboard calls list | export CALL_ID | erase --caller NUMBER`: the calls in the journal store STORE_URL
 * names, one call's journal as JSON lines (the format `switchboard replay` reads and `test/replay/` keeps,
 * decrypted with JOURNAL_KEY), and the erasure of every call from or to one number.
 */
import { parseArgs } from 'node:util';
import { readJournal } from '../call/call-journal.ts';
import { eraseCaller } from '../call/erasure.ts';
import { isE164 } from '../common/e164.ts';
import { isSwitchboardError } from '../errors.ts';
import { encodeRecord } from '../journal/records.ts';
import { listCalls } from '../journal/side-journal.ts';
import type { CallSummary, JournalStore } from '../journal/store.ts';
import { openStoreFromEnv } from './store-env.ts';

const HELP = `usage: switchboard calls list [--limit N]
       switchboard calls export CALL_ID > call.jsonl
       switchboard calls erase --caller +15551234567

  list     the most recently active calls: id, flow, records, first and last record, open or ended, holder
  export   one call's journal as JSON lines, for switchboard replay and test/replay/; personal fields are
           decrypted with JOURNAL_KEY, and withheld (the record says which key) without it
  erase    delete every ended call from or to this number (E.164) and report what went; calls still open
           are listed and left, to be erased once they end

The store is STORE_URL's (sqlite:./data/switchboard.db unless set; postgres://... for a shared one).
Exit status: 0 on success; 1 when the store cannot be read, has no journal for CALL_ID, or erase left calls
(open, or unreadable without their key); 2 for a usage error.`;

const NAME = 'switchboard calls';

export async function main(args: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args,
      allowPositionals: true,
      options: {
        limit: { type: 'string' },
        caller: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
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
  const caller = parsed.values.caller;
  if (
    (command === 'list' && (rest.length > 0 || !Number.isInteger(limit) || limit < 1)) ||
    (command === 'export' && rest.length !== 1) ||
    (command === 'erase' && (rest.length > 0 || caller === undefined)) ||
    (command !== 'list' && command !== 'export' && command !== 'erase')
  ) {
    console.error(
      `${NAME}: expected "list [--limit N]", "export CALL_ID" or "erase --caller NUMBER"\n\n${HELP}`,
    );
    return 2;
  }
  if (command === 'erase' && !isE164(caller!)) {
    console.error(`${NAME}: --caller must be a number in E.164 form, such as +15551234567`);
    return 2;
  }
  let store;
  try {
    store = await openStoreFromEnv();
  } catch (err) {
    console.error(`${NAME}: ${isSwitchboardError(err) ? err.message : String(err)}`);
    return 1;
  }
  try {
    if (command === 'list') {
      const calls = await listCalls(store, limit);
      if (calls.length === 0) console.log(`no calls in ${store.kind} ${store.location}`);
      for (const call of calls) console.log(formatCall(call));
      return 0;
    }
    if (command === 'erase') return await erase(store, caller!);
    const callId = rest[0]!;
    const records = await readJournal(store, callId, { withheld: 'allow' });
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

async function erase(store: JournalStore, caller: string): Promise<number> {
  const done = await eraseCaller(store, caller);
  const records = done.erased.reduce((n, c) => n + c.records, 0);
  console.log(
    `erased ${done.erased.length} calls (${records} records) of ${done.scanned} in ${store.kind} ${store.location}`,
  );
  for (const c of done.erased) console.log(`  erased  ${c.callId}  ${c.records} records`);
  for (const id of done.open) console.log(`  open    ${id}  (not erased: run again once it has ended)`);
  for (const id of done.unreadable)
    console.log(`  unread  ${id}  (its numbers are under a key not set here)`);
  return done.open.length > 0 || done.unreadable.length > 0 ? 1 : 0;
}

function formatCall(c: CallSummary): string {
  const time = (ms: number | null): string => (ms === null ? '-' : new Date(ms).toISOString());
  const status = c.ended ? 'ended' : c.owner ? `open, held by ${c.owner}` : 'open';
  return `${c.callId}  ${c.flow ?? '-'}  ${c.records} records  ${time(c.firstAt)} .. ${time(c.lastAt)}  ${status}`;
}
