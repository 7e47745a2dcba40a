/**
 * `switchboard campaign run | status | cancel`: call every number of a CSV file through a running server's calls
 * API (src/campaign/runner.ts), see where a campaign stands, or stop it. A campaign is named by its file and flow
 * (or `--id`), and its state is journaled on the server: running the same file again after a crash, of this
 * command or of the server, goes on where it was and dials no number twice.
 */
import { createWriteStream, type WriteStream } from 'node:fs';
import { basename } from 'node:path';
import { parseArgs } from 'node:util';
import { ApiClient, ApiRefusal } from '../campaign/api-client.ts';
import { parseDuration } from '../campaign/backoff.ts';
import { campaignRowsHash } from '../campaign/csv-rows.ts';
import { parseQuietHours } from '../campaign/quiet-hours.ts';
import { parseRate } from '../campaign/rate.ts';
import { OUTCOMES } from '../campaign/row-outcome.ts';
import { CampaignRunner, type CampaignProgress, type RowResult } from '../campaign/runner.ts';
import { parseTimeZone } from '../campaign/time-zone.ts';
import { CAMPAIGN_ID } from '../outbound/campaign-journal.ts';
import { isSwitchboardError } from '../errors.ts';

const HELP = `usage: switchboard campaign run FILE.csv --flow NAME [options]
       switchboard campaign status ID [--json]
       switchboard campaign cancel ID

  run FILE.csv        call each row's number (column number, to or phone) with flow NAME; the row's
                      other columns are the flow's variables ({{call.vars.NAME}}), a timezone (or tz)
                      column the callee's time zone
    --rate R          call starts per second or minute: 1/s, 10/s, 30/m (1/s)
    --concurrency N   calls in progress at once, at most (10)
    --retries N       dial again on busy, no answer or failure, up to N more times (2)
    --retry-after D   wait before the first retry, doubling after each: 300s, 5m, 1h (5m)
    --quiet-hours H   never call in these hours of the callee's day: 21:00-08:00, or off (21:00-08:00)
    --timezone Z      the callee's time zone when the row names none (this machine's)
    --from NUMBER     caller id (the server's TWILIO_CALLER_ID)
    --id ID           the campaign's id (from the file's contents and the flow)
    --results FILE    write each row's outcome to FILE: .csv, or JSON lines (.jsonl)
    --number-column C, --timezone-column C
                      the columns holding the number and the time zone, when not named as above
  status ID           the campaign's counts as last written by its runner (--json: as JSON)
  cancel ID           stop the campaign: its runner dials no more rows (calls in progress go on)
  --server URL        the server (SWITCHBOARD_URL, else http://127.0.0.1:PORT with PORT or 8080)

Reads API_KEY, which must match the server's. Rows that cannot be called are reported by line on standard
error and skipped; the rest of the campaign runs. Running it again (same file and flow) takes it up where
it was: rows done are counted, not called again; rows skipped for quiet hours are called if allowed now.
Exit status: 0 when every row has its outcome; 1 when the campaign was cancelled, interrupted or the server
could not be reached; 2 for a usage error (a bad option, a file without a number column).`;

class UsageError extends Error {}

export async function main(args: string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  try {
    return await run(args, env);
  } catch (err) {
    if (err instanceof UsageError || (isSwitchboardError(err) && err.code === 'CAMPAIGN_INVALID')) {
      console.error(`switchboard campaign: ${err.message}`);
      return 2;
    }
    if (err instanceof TypeError && (err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      console.error(`switchboard campaign: ${err.message}\n\n${HELP}`);
      return 2;
    }
    console.error(`switchboard campaign: ${err instanceof Error ? err.message : String(err)}`);
    return 1;
  }
}

async function run(args: string[], env: NodeJS.ProcessEnv): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      flow: { type: 'string' },
      rate: { type: 'string', default: '1/s' },
      concurrency: { type: 'string', default: '10' },
      retries: { type: 'string', default: '2' },
      'retry-after': { type: 'string', default: '5m' },
      'quiet-hours': { type: 'string', default: '21:00-08:00' },
      timezone: { type: 'string' },
      from: { type: 'string' },
      id: { type: 'string' },
      results: { type: 'string' },
      'number-column': { type: 'string' },
      'timezone-column': { type: 'string' },
      server: { type: 'string' },
      json: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    console.log(HELP);
    return 0;
  }
  const [command, target, ...rest] = positionals;
  if (target === undefined || rest.length > 0 || !['run', 'status', 'cancel'].includes(command ?? '')) {
    throw new UsageError(`give run FILE.csv, status ID or cancel ID\n\n${HELP}`);
  }
  if (!env.API_KEY) throw new UsageError("API_KEY is not set: it must match the server's");
  const server = (values.server ?? env.SWITCHBOARD_URL ?? `http://127.0.0.1:${env.PORT || 8080}`).replace(
    /\/+$/,
    '',
  );
  if (!URL.canParse(server)) throw new UsageError(`--server ${server} is not a URL`);
  const interrupt = new AbortController();
  const client = new ApiClient({
    baseUrl: server,
    apiKey: env.API_KEY,
    signal: interrupt.signal,
    onRetry: (why) => console.error(`switchboard campaign: ${why}; trying again`),
  });
  if (command !== 'run') {
    if (!CAMPAIGN_ID.test(target)) throw new UsageError(`${target} is not a campaign id`);
    const campaign = command === 'cancel' ? await client.cancel(target) : await client.campaign(target);
    if (values.json) console.log(JSON.stringify(campaign));
    else {
      const state = campaign.cancelled ? 'cancelled' : campaign.done ? 'done' : 'running or interrupted';
      console.log(`campaign ${campaign.id} (${campaign.file}, flow ${campaign.flow}): ${state}`);
      console.log(`  last written ${new Date(campaign.updatedAt).toISOString()}`);
      console.log(summaryLines(campaign.counts).join('\n'));
    }
    return 0;
  }
  if (values.flow === undefined) throw new UsageError('--flow NAME is required');
  const concurrency = wholeNumber(values.concurrency, '--concurrency', 1, 1000);
  const retries = wholeNumber(values.retries, '--retries', 0, 10);
  const id = values.id ?? `c${(await campaignRowsHash(target)).slice(0, 6)}${flowTag(values.flow)}`;
  if (!CAMPAIGN_ID.test(id)) throw new UsageError('--id is 1 to 40 letters, digits, _ or -');
  const results = values.results === undefined ? null : resultsWriter(values.results);
  const progress = new ProgressLine(process.stderr.isTTY === true);
  const runner = new CampaignRunner({
    client,
    id,
    file: target,
    fileName: basename(target),
    flow: values.flow,
    ...(values.from === undefined ? {} : { from: values.from }),
    perSecond: parseRate(values.rate).perSecond,
    concurrency,
    maxAttempts: retries + 1,
    retryBaseMs: parseDuration(values['retry-after'], '--retry-after'),
    quiet: parseQuietHours(values['quiet-hours']),
    timeZone:
      values.timezone === undefined
        ? Intl.DateTimeFormat().resolvedOptions().timeZone
        : parseTimeZone(values.timezone),
    columns: {
      ...(values['number-column'] === undefined ? {} : { number: values['number-column'] }),
      ...(values['timezone-column'] === undefined ? {} : { timezone: values['timezone-column'] }),
    },
    signal: interrupt.signal,
    onOutcome: (row) => results?.write(row),
    onRowError: (line, message) => progress.note(`line ${line}: ${message}`),
    onProgress: (p) => progress.show(id, p),
  });
  const stop = (): void => interrupt.abort();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  const started = performance.now();
  console.error(`campaign ${id}: calling ${basename(target)} with flow ${values.flow}`);
  let final: CampaignProgress;
  try {
    final = await runner.run();
  } catch (err) {
    if (err instanceof ApiRefusal && err.code === 'FLOW_NOT_FOUND') throw new UsageError(err.message);
    throw err;
  } finally {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
    progress.end();
    await results?.close();
  }
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  const how = final.cancelled ? 'cancelled' : interrupt.signal.aborted ? 'interrupted' : 'done';
  console.log(`campaign ${id}: ${how}, ${final.rows} rows in ${seconds} s, ${final.started} calls placed`);
  console.log(summaryLines(final.counts).join('\n'));
  return how === 'done' ? 0 : 1;
}

const LABELS: Record<string, string> = {
  human: 'answered by a person',
  voicemail: 'voicemail left',
  no_answer: 'no answer',
  failed: 'failed',
  skipped: 'skipped',
};

function summaryLines(counts: Record<string, number>): string[] {
  return OUTCOMES.map((o) => `  ${LABELS[o]!.padEnd(22)} ${String(counts[o] ?? 0).padStart(7)}`);
}

function wholeNumber(text: string, option: string, min: number, max: number): number {
  const n = Number(text);
  if (!Number.isSafeInteger(n) || n < min || n > max)
    throw new UsageError(`${option} is a whole number from ${min} to ${max}`);
  return n;
}

/** A short tag of the flow, so the same file called with another flow is another campaign. */
function flowTag(flow: string): string {
  return `-${flow.replace(/[^A-Za-z0-9_-]/g, '').slice(0, 24)}`;
}

/** One line rewritten in place on a terminal; a line every report otherwise. */
class ProgressLine {
  readonly #tty: boolean;
  #shown = false;

  constructor(tty: boolean) {
    this.#tty = tty;
  }

  show(id: string, p: CampaignProgress): void {
    const done = OUTCOMES.reduce((n, o) => n + p.counts[o], 0);
    const width = 20;
    const filled = p.rows === 0 ? 0 : Math.round((done / p.rows) * width);
    const bar = `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}]`;
    const counts = OUTCOMES.map((o) => `${o.replace('_', ' ')} ${p.counts[o]}`).join(', ');
    const text = `${id} ${bar} ${done}/${p.rows} rows read, ${p.inProgress} in progress, ${p.waitingRetry} to retry; ${counts}`;
    if (this.#tty) {
      process.stderr.write(`\r\x1b[2K${text}`);
      this.#shown = true;
    } else console.error(text);
  }

  note(text: string): void {
    if (this.#shown) process.stderr.write('\r\x1b[2K');
    console.error(text);
  }

  end(): void {
    if (this.#shown) process.stderr.write('\n');
  }
}

interface ResultsWriter {
  write(row: RowResult): void;
  close(): Promise<void>;
}

const RESULT_COLUMNS = [
  'line',
  'to',
  'outcome',
  'attempts',
  'callSid',
  'answeredBy',
  'status',
  'reason',
] as const;

/** Each row's outcome as it is reached: CSV (by the name's extension) or JSON lines. */
function resultsWriter(path: string): ResultsWriter {
  const out: WriteStream = createWriteStream(path, { flags: 'w' });
  const csv = path.toLowerCase().endsWith('.csv');
  if (csv) out.write(`${RESULT_COLUMNS.join(',')}\n`);
  return {
    write(row) {
      if (!csv) return void out.write(`${JSON.stringify(row)}\n`);
      const cells = RESULT_COLUMNS.map((c) => {
        const v = row[c];
        const text = v === null || v === undefined ? '' : String(v);
        return /[",\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
      });
      out.write(`${cells.join(',')}\n`);
    },
    close: () =>
      new Promise((resolve, reject) => out.end((err?: Error | null) => (err ? reject(err) : resolve()))),
  };
}
