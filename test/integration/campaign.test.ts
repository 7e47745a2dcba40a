/**
 * Campaigns against the server's calls API and the local fake of Twilio's REST API: each row is dialed once per
 * attempt, busy and unanswered numbers are retried per policy, bad rows are reported by line while the rest run,
 * the summary adds up, and a runner stopped part way and started again dials no number twice.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { ApiClient } from '../../src/campaign/api-client.ts';
import { CampaignRunner, type CampaignOptions, type RowResult } from '../../src/campaign/runner.ts';
import { FakeTwilioApiServer } from '../fakes/twilio-api/index.ts';
import { ToneTts } from '../fakes/tone-tts.ts';
import { startServer, type TestServer } from '../support/harness.ts';

const ACCOUNT = 'AC' + '6'.repeat(32);
const TOKEN = 'campaign-test-token';
const API_KEY = 'campaign-test-api-key-0123';

let server: TestServer;
let twilio: FakeTwilioApiServer;
let dir: string;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'switchboard-campaign-'));
  twilio = new FakeTwilioApiServer({ accountSid: ACCOUNT, authToken: TOKEN, hangupAfterMs: 20 });
  await twilio.start();
  server = await startServer({
    authToken: TOKEN,
    tts: new ToneTts({ msPerChar: 1 }),
    dialing: {
      apiKey: API_KEY,
      accountSid: ACCOUNT,
      authToken: TOKEN,
      apiUrl: twilio.url,
      callerId: '+15550009000',
    },
  });
});

after(async () => {
  await twilio.close();
  await server.close();
  await rm(dir, { recursive: true, force: true });
});

const creates = (to: string): number =>
  twilio.requests.filter(
    (r) => r.method === 'POST' && r.path.endsWith('/Calls.json') && r.form.get('To') === to,
  ).length;

function runner(id: string, file: string, extra: Partial<CampaignOptions> = {}) {
  const outcomes: RowResult[] = [];
  const errors: string[] = [];
  const run = new CampaignRunner({
    client: new ApiClient({ baseUrl: server.url, apiKey: API_KEY }),
    id,
    file,
    fileName: 'calls.csv',
    flow: 'reminder',
    perSecond: 50,
    concurrency: 3,
    maxAttempts: 2,
    retryBaseMs: 50,
    quiet: null,
    timeZone: 'UTC',
    onOutcome: (row) => outcomes.push(row),
    onRowError: (line, message) => errors.push(`${line}: ${message}`),
    ...extra,
  });
  return { run, outcomes, errors };
}

test('a campaign dials each row, retries busy and unanswered numbers, and its summary adds up', async () => {
  const n = (i: number): string => `+1555000310${i}`;
  twilio.scriptSequence(n(3), ['busy', 'human']);
  twilio.script(n(4), 'no-answer');
  twilio.script(n(2), { outcome: 'machine', answeredBy: 'machine_end_beep', afterMs: 10 });
  twilio.script(n(7), 'failed');
  twilio.failCreate(n(6), 400, 21215, 'Account not authorized to call this number.');
  const file = join(dir, 'mixed.csv');
  await writeFile(
    file,
    [
      'number,name,date,time',
      `${n(1)},Ada,2026-12-09,15:30`,
      `${n(2)},Bo,2026-12-09,15:30`,
      `"+1 (555) 000-3103",Cy,2026-12-09,15:30`,
      `${n(4)},Di,2026-12-09,15:30`,
      `555-0199,Ed,2026-12-09,15:30`,
      `${n(6)},Fay,2026-12-09,15:30`,
      `${n(7)},Gus,2026-12-09,15:30`,
      `${n(8)},Hal,2026-12-09`,
    ].join('\n'),
  );
  const { run, outcomes, errors } = runner('mixed', file);
  const final = await run.run();
  assert.deepEqual(final.counts, { human: 2, voicemail: 1, no_answer: 1, failed: 2, skipped: 2 });
  assert.equal(final.rows, 8);
  assert.equal(outcomes.length, 8, 'every row has one outcome');
  assert.deepEqual(
    [1, 2, 3, 4, 6, 7].map((i) => creates(n(i))),
    [1, 1, 2, 2, 1, 2],
    'one call per attempt: busy, no answer and failed retried once, a refusal not',
  );
  assert.equal(creates(n(8)), 0);
  assert.ok(
    errors.some((e) => e.startsWith('6: ') && /E\.164/.test(e)),
    errors.join('\n'),
  );
  assert.ok(
    errors.some((e) => e.startsWith('9: ') && /fields/.test(e)),
    errors.join('\n'),
  );
  assert.ok(!errors.join('\n').includes('555-0199'), errors.join('\n'));
  const third = outcomes.find((o) => o.line === 4)!;
  assert.deepEqual([third.outcome, third.attempts, third.to], ['human', 2, n(3)]);
  const status = await new ApiClient({ baseUrl: server.url, apiKey: API_KEY }).campaign('mixed');
  assert.equal(status.done, true);
  assert.equal(status.counts.human, 2);
});

test('a runner stopped part way and started again dials no number twice', async () => {
  const rows = 12;
  const numbers = Array.from({ length: rows }, (_, i) => `+1555000${String(4000 + i)}`);
  const file = join(dir, 'resume.csv');
  await writeFile(
    file,
    ['to,name,date,time', ...numbers.map((to) => `${to},Ada,2026-12-09,09:00`)].join('\n'),
  );
  const stop = new AbortController();
  const first = runner('resume', file, { signal: stop.signal, perSecond: 20 });
  const stopped = first.run.run();
  while (first.outcomes.length < 4) await new Promise((r) => setTimeout(r, 20));
  stop.abort();
  const partial = await stopped;
  assert.ok(partial.started < rows, `stopped part way (${partial.started} placed)`);

  const second = runner('resume', file);
  const final = await second.run.run();
  assert.equal(final.counts.human, rows, JSON.stringify(final));
  assert.deepEqual(
    numbers.map((to) => creates(to)),
    numbers.map(() => 1),
    'each number dialed once across both runs',
  );
  assert.equal(second.outcomes.length, rows);
  const cancelled = await new ApiClient({ baseUrl: server.url, apiKey: API_KEY }).cancel('resume');
  assert.equal(cancelled.cancelled, true);
  const third = runner('resume', file);
  const after = await third.run.run();
  assert.equal(after.cancelled, true);
  assert.equal(after.started, 0);
});
