/**
 * A campaign of 50 numbers while its server (the real `switchboard serve`, its journal in SQLite) is killed with
 * SIGKILL at three points and started again on the same port: before a call's REST request reached Twilio, after
 * Twilio created a call but before its answer came back, and after a call was answered (its final status
 * callback lost, so the dial is looked up at Twilio). Every number is dialed exactly once (twice where the
 * callee was busy the first time, as the retry policy says), and the summary adds up.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { ApiClient } from '../../src/campaign/api-client.ts';
import { CampaignRunner } from '../../src/campaign/runner.ts';
import { FakeTwilioApiServer } from '../fakes/twilio-api/index.ts';
import { serve, type Served } from '../support/serve-process.ts';

const ACCOUNT = 'AC' + '8'.repeat(32);
const TOKEN = 'campaign-crash-token';
const API_KEY = 'campaign-crash-api-key-01234';
const ROWS = 50;
const number = (i: number): string => `+1555001${String(1000 + i)}`;

let dir: string;
let twilio: FakeTwilioApiServer;
let port: number;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'switchboard-campaign-crash-'));
  twilio = new FakeTwilioApiServer({ accountSid: ACCOUNT, authToken: TOKEN, hangupAfterMs: 40 });
  await twilio.start();
  port = await freePort();
});

after(async () => {
  await twilio.close();
  await rm(dir, { recursive: true, force: true });
});

async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port: free } = probe.address() as { port: number };
  await new Promise((resolve) => probe.close(resolve));
  return free;
}

function startServer(): Promise<Served> {
  return serve({
    PORT: String(port),
    STORE_URL: `sqlite:${join(dir, 'journal.db')}`,
    STT: 'off',
    NLU: 'off',
    API_KEY,
    TWILIO_ACCOUNT_SID: ACCOUNT,
    TWILIO_AUTH_TOKEN: TOKEN,
    TWILIO_API_URL: twilio.url,
    TWILIO_CALLER_ID: '+15550019999',
  });
}

async function kill(server: Served): Promise<void> {
  server.child.kill('SIGKILL');
  await server.exited;
}

/** Calls the fake created for `to` (a dropped request created none). */
const created = (to: string): number =>
  twilio.requests.filter((r) => r.path.endsWith('/Calls.json') && r.form.get('To') === to && r.status === 201)
    .length;

test(
  'killed three times during a campaign of 50, the server dials every number once',
  { timeout: 180_000 },
  async () => {
    const file = join(dir, 'fifty.csv');
    const rows = Array.from({ length: ROWS }, (_, i) => `${number(i)},Ada,2026-12-09,10:00`);
    await writeFile(file, ['number,name,date,time', ...rows].join('\n'));
    const busyFirst = [3, 17, 33];
    for (const i of busyFirst) twilio.scriptSequence(number(i), ['busy', 'human']);
    twilio.holdCreates(number(10), 'drop');
    twilio.holdCreates(number(25), 'hold');

    let server = await startServer();
    const retries: string[] = [];
    const runner = new CampaignRunner({
      client: new ApiClient({
        baseUrl: server.url,
        apiKey: API_KEY,
        waitMs: 60_000,
        onRetry: (why) => retries.push(why),
      }),
      id: 'crash',
      file,
      fileName: 'fifty.csv',
      flow: 'reminder',
      perSecond: 25,
      concurrency: 5,
      maxAttempts: 2,
      retryBaseMs: 100,
      quiet: null,
      timeZone: 'UTC',
    });
    const running = runner.run();

    // 1. The request for number 10 never reaches Twilio.
    await twilio.waitFor((e) => e.type === 'held' && e.to === number(10), 30_000);
    await kill(server);
    server = await startServer();
    // 2. Twilio creates the call for number 25; its answer is lost with the server.
    await twilio.waitFor((e) => e.type === 'held' && e.to === number(25), 30_000);
    await kill(server);
    server = await startServer();
    // 3. Number 40 answers; the call's final status goes to a dead server.
    await twilio.waitFor(
      (e) => e.type === 'status' && e.status === 'in-progress' && twilio.call(e.callSid)?.to === number(40),
      30_000,
    );
    await kill(server);
    server = await startServer();

    const final = await running;
    try {
      const counts = final.counts;
      const total = counts.human + counts.voicemail + counts.no_answer + counts.failed + counts.skipped;
      assert.equal(total, ROWS, `the summary adds up: ${JSON.stringify(counts)}`);
      assert.equal(counts.human, ROWS, JSON.stringify(counts));
      const twice = Array.from({ length: ROWS }, (_, i) => i).filter((i) => created(number(i)) > 1);
      assert.deepEqual(twice, busyFirst, 'only the numbers busy the first time were dialed again');
      const never = Array.from({ length: ROWS }, (_, i) => i).filter((i) => created(number(i)) === 0);
      assert.deepEqual(never, [], 'every number was dialed');
      assert.ok(retries.length > 0, 'the runner waited for the server to come back');
      const lookedUp = server.logs().filter((l) => l.msg === 'dial status found at Twilio');
      assert.ok(lookedUp.length > 0, 'a call whose final status callback was lost was looked up at Twilio');
      const adopted = twilio.requests.filter((r) => r.method === 'GET' && r.path.endsWith('/Calls.json'));
      assert.ok(
        adopted.length > 0,
        'a dial journaled without its call looked the call up before creating one',
      );
    } finally {
      await kill(server);
    }
  },
);
