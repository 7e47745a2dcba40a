/**
 * `switchboard learn FLOW [--since 7d] [--out FILE]`: reads the journal store for the flow's calls and writes a
 * review file (JSONL, src/learning/review.ts) of their caller turns, the ones most worth labeling first. A person
 * fills in the labels; `switchboard train FLOW --with FILE` trains a candidate model from them.
 */
import { writeFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { readJournal } from '../call/call-journal.ts';
import { isSwitchboardError } from '../errors.ts';
import { isSideJournalId } from '../journal/side-journal.ts';
import type { JournalStore } from '../journal/store.ts';
import { reviewLines } from '../learning/review.ts';
import { callerTurns, type CallerTurn } from '../learning/turns.ts';
import { loadFlowArg } from './flow-arg.ts';
import { describeFailure, openStoreFromEnv } from './store-env.ts';

const HELP = `usage: switchboard learn FLOW [--since 7d] [--out FILE]

Reads the calls of FLOW (a .json file, or a flow id in $FLOWS_DIR) from the journal store and writes a review
file: one caller turn per line, as JSON, with what was heard, the state, the intent and confidence the call
got, and what happened next ("signals": no-match, reprompt, repeated, transferred, hung up). Turns phrased
alike share a "group"; the groups most worth labeling come first (no-matches, low confidence, trouble after,
frequent phrasings). Fill in each "label" with an intent of the flow, "oos" (none fits) or "skip", then run
"switchboard train FLOW --with FILE".

  --since AGE   only calls active in this long: 30m, 12h, 7d (default 7d); "all" for every call
  --out FILE    write the review file here (default: standard output)
  -h, --help    show this help

The store is STORE_URL's (sqlite:./data/switchboard.db unless set); the words callers said are decrypted with
JOURNAL_KEY, and turns sealed under a key not set here are left out and counted. The file holds what callers
said: keep it where the journals are kept.
Exit status: 0 when the file was written, 1 when the flow or the store cannot be read, 2 for a usage error.`;

const NAME = 'switchboard learn';
const UNITS: Record<string, number> = { m: 60_000, h: 3_600_000, d: 86_400_000 };
const PAGE = 500;

/** "7d" -> ms; null for "all"; undefined when it does not parse. */
export function parseAge(text: string): number | null | undefined {
  if (text === 'all') return null;
  const m = /^(\d+)([mhd])$/.exec(text);
  return m ? Number(m[1]) * UNITS[m[2]!]! : undefined;
}

/** Every caller turn of `flowId`'s calls active since `since` (ms since the epoch; null for all). */
export async function flowTurns(
  store: JournalStore,
  flowId: string,
  since: number | null,
): Promise<{ turns: CallerTurn[]; calls: number; withheld: number }> {
  const turns: CallerTurn[] = [];
  let calls = 0;
  let withheld = 0;
  let after: string | null = null;
  for (;;) {
    const ids = await store.callIds(after, PAGE);
    if (ids.length === 0) break;
    after = ids.at(-1)!;
    for (const id of ids) {
      if (isSideJournalId(id)) continue;
      if (since !== null && ((await store.summary(id))?.lastAt ?? 0) < since) continue;
      const records = await readJournal(store, id, { withheld: 'allow' });
      const start = records[0];
      if (start?.kind !== 'start' || start.flow !== flowId) continue;
      calls++;
      if (records.some((r) => r.withheld !== undefined && r.kind === 'in')) {
        withheld++;
        continue;
      }
      turns.push(...callerTurns(records));
    }
  }
  return { turns, calls, withheld };
}

export async function main(args: string[]): Promise<number> {
  let values: { since?: string; out?: string; help?: boolean };
  let positionals: string[];
  try {
    ({ values, positionals } = parseArgs({
      args,
      allowPositionals: true,
      options: { since: { type: 'string' }, out: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
    }));
  } catch (err) {
    console.error(`${NAME}: ${(err as Error).message}\n\n${HELP}`);
    return 2;
  }
  if (values.help) {
    console.log(HELP);
    return 0;
  }
  const age = parseAge(values.since ?? '7d');
  if (positionals.length !== 1 || age === undefined) {
    console.error(
      `${NAME}: ${positionals.length !== 1 ? 'one FLOW is required' : '--since takes 30m, 12h, 7d or all'}\n\n${HELP}`,
    );
    return 2;
  }
  const loaded = await loadFlowArg(positionals[0]!);
  if (!loaded.ok) {
    console.error(loaded.message.includes('\n') ? loaded.message : `${NAME}: ${loaded.message}`);
    return 1;
  }
  let store: JournalStore;
  try {
    store = await openStoreFromEnv();
  } catch (err) {
    console.error(`${NAME}: ${isSwitchboardError(err) ? err.message : String(err)}`);
    return 1;
  }
  try {
    const since = age === null ? null : Date.now() - age;
    const { turns, calls, withheld } = await flowTurns(store, loaded.flow.id, since);
    const lines = reviewLines(turns);
    const text = lines.map((line) => JSON.stringify(line) + '\n').join('');
    if (values.out === undefined) process.stdout.write(text);
    else await writeFile(values.out, text);
    const groups = new Set(lines.map((l) => l.group)).size;
    const trouble = lines.filter((l) => l.signals.length > 0).length;
    console.error(
      `${NAME}: ${lines.length} caller turns (${trouble} with trouble after them) in ${groups} groups, from ` +
        `${calls} calls of ${loaded.flow.id} in ${store.kind} ${store.location}` +
        (withheld > 0
          ? `; ${withheld} calls left out: their words are sealed under a key not set here`
          : '') +
        (values.out === undefined ? '' : `; written to ${values.out}`),
    );
    return 0;
  } catch (err) {
    console.error(`${NAME}: ${describeFailure(err)}`);
    return 1;
  } finally {
    await store.close();
  }
}
