/**
 * `switchboard dial` and `switchboard campaign` as a user runs them (bin/switchboard.js, child processes) against a
 * server with the calls API on and the local fake of Twilio's REST API: what they print, and their exit codes.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { FakeTwilioApiServer } from '../fakes/twilio-api/index.ts';
import { ToneTts } from '../fakes/tone-tts.ts';
import { startServer, type TestServer } from '../support/harness.ts';

const BIN = new URL('../../bin/switchboard.js', import.meta.url).pathname;
const ACCOUNT = 'AC' + '4'.repeat(32);
const TOKEN = 'dial-cli-token';
const API_KEY = 'dial-cli-api-key-0123456789';

let server: TestServer;
let twilio: FakeTwilioApiServer;
let dir: string;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'switchboard-dial-cli-'));
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
      callerId: '+15550008000',
    },
  });
});

after(async () => {
  await twilio.close();
  await server.close();
  await rm(dir, { recursive: true, force: true });
});

function run(
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number | null; out: string; err: string }> {
  const child = spawn(process.execPath, [BIN, ...args], {
    env: { ...process.env, SWITCHBOARD_URL: server.url, API_KEY, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr.on('data', (c: Buffer) => (err += c.toString()));
  return new Promise((resolve) => child.once('exit', (code) => resolve({ code, out, err })));
}

const VARS = ['--var', 'name=Ada', '--var', 'date=2026-12-09', '--var', 'time=15:30'];

test('switchboard dial places a call, and the same --key places no second one', async () => {
  const first = await run(['dial', '+15550008101', '--flow', 'reminder', ...VARS, '--key', 'cli-1']);
  assert.equal(first.code, 0, first.err);
  const sid = /^(CA[0-9a-f]{32}) placed \(key cli-1\)$/m.exec(first.out)?.[1];
  assert.ok(sid, first.out);
  const again = await run(['dial', '+15550008101', '--flow', 'reminder', ...VARS, '--key', 'cli-1']);
  assert.equal(again.code, 0, again.err);
  assert.match(again.out, new RegExp(`^${sid} already placed with this key`, 'm'));
});

test('switchboard dial: a missing variable and a bad number exit 2, a wrong key 1, each saying why', async () => {
  const missing = await run(['dial', '+15550008102', '--flow', 'reminder', '--var', 'name=Ada']);
  assert.equal(missing.code, 2);
  assert.match(missing.err, /DIAL_INVALID \(vars\): .*date, time/);
  const bad = await run(['dial', '555-0102', '--flow', 'reminder', ...VARS]);
  assert.equal(bad.code, 2);
  assert.match(bad.err, /DIAL_INVALID \(to\)/);
  const wrong = await run(['dial', '+15550008102', '--flow', 'reminder', ...VARS], {
    API_KEY: 'wrong-key-wrong-key',
  });
  assert.equal(wrong.code, 1);
  assert.match(wrong.err, /HTTP_UNAUTHORIZED/);
  const usage = await run(['dial', '--flow', 'reminder']);
  assert.equal(usage.code, 2);
});

test('switchboard campaign run calls a file, prints its summary and results; status reads it back', async () => {
  const file = join(dir, 'three.csv');
  await writeFile(
    file,
    [
      'phone,name,date,time',
      '+15550008201,Ada,2026-12-09,09:00',
      'nope,Bo,2026-12-09,09:00',
      '+15550008203,Cy,2026-12-09,09:00',
    ].join('\n'),
  );
  const results = join(dir, 'results.csv');
  const ran = await run([
    'campaign',
    'run',
    file,
    '--flow',
    'reminder',
    '--rate',
    '20/s',
    '--quiet-hours',
    'off',
    '--id',
    'cli-three',
    '--results',
    results,
  ]);
  assert.equal(ran.code, 0, ran.err);
  assert.match(ran.out, /campaign cli-three: done, 3 rows in [\d.]+ s, 2 calls placed/);
  assert.match(ran.out, /answered by a person\s+2/);
  assert.match(ran.out, /skipped\s+1/);
  assert.match(ran.err, /line 3: column "phone" is not a phone number/);
  const lines = (await readFile(results, 'utf8')).trim().split('\n');
  assert.equal(lines[0], 'line,to,outcome,attempts,callSid,answeredBy,status,reason');
  assert.equal(lines.length, 4);
  const status = await run(['campaign', 'status', 'cli-three', '--json']);
  assert.equal(status.code, 0, status.err);
  const campaign = JSON.parse(status.out) as { done: boolean; counts: Record<string, number> };
  assert.equal(campaign.done, true);
  assert.equal(campaign.counts.human, 2);
  const noFlow = await run([
    'campaign',
    'run',
    file,
    '--flow',
    'nosuch',
    '--quiet-hours',
    'off',
    '--id',
    'cli-none',
  ]);
  assert.equal(noFlow.code, 2, noFlow.err);
  assert.match(noFlow.err, /FLOW_NOT_FOUND/);
});
