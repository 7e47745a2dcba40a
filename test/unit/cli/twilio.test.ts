/**
 * `switchboard twilio numbers | setup` against the fake Twilio REST API (TWILIO_API_URL), through the real
 * twilio library: the listing, the change shown before it is made, made only once confirmed (or with --yes),
 * checked afterwards and not repeated; unknown numbers, unknown flows, missing settings and refused
 * credentials each say what is wrong.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { main, type Terminal } from '../../../src/cli/twilio.ts';
import { captureConsole } from '../../fixtures/console.ts';
import { FakeTwilioApiServer } from '../../fakes/twilio-api/index.ts';

const ACCOUNT = 'AC' + '0123456789abcdef'.repeat(2);
const TOKEN = 'fake-api-auth-token';
const PUBLIC_URL = 'https://voice.example.test';
const NUMBER = '+15555550100';
const VOICE = `${PUBLIC_URL}/twilio/voice`;
const STATUS = `${PUBLIC_URL}/twilio/status`;
const pizza = { id: 'pizza', version: 1, start: 'hi', states: { hi: { say: 'Hello.', hangup: true } } };

/** No one at a terminal: standard input is a pipe. */
const PIPE: Terminal = {
  interactive: false,
  ask: () => Promise.reject(new Error('asked without a terminal')),
};

/** Someone at a terminal who answers `answer`; `asked` keeps the questions. */
function person(answer: string): Terminal & { asked: string[] } {
  const asked: string[] = [];
  return {
    interactive: true,
    asked,
    ask: (question) => {
      asked.push(question);
      return Promise.resolve(answer);
    },
  };
}

/** The fake, a flows folder with `pizza`, and the environment the command reads, restored afterwards. */
async function setup(t: TestContext, env: Record<string, string | undefined> = {}) {
  const fake = new FakeTwilioApiServer({ accountSid: ACCOUNT, authToken: TOKEN });
  await fake.start();
  t.after(() => fake.close());
  const flows = await mkdtemp(join(tmpdir(), 'switchboard-twilio-'));
  await writeFile(join(flows, 'pizza.json'), JSON.stringify(pizza));
  t.after(() => rm(flows, { recursive: true, force: true }));
  const vars: Record<string, string | undefined> = {
    TWILIO_ACCOUNT_SID: ACCOUNT,
    TWILIO_AUTH_TOKEN: TOKEN,
    TWILIO_API_URL: fake.url,
    PUBLIC_URL,
    FLOWS_DIR: flows,
    ...env,
  };
  const saved = Object.fromEntries(Object.keys(vars).map((name) => [name, process.env[name]]));
  const apply = (values: Record<string, string | undefined>) => {
    for (const [name, value] of Object.entries(values)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  };
  apply(vars);
  t.after(() => apply(saved));
  /** Runs the command with `terminal` (no terminal unless given); resolves with its output and exit code. */
  const run = (args: string[], terminal: Terminal = PIPE) => captureConsole(t, () => main(args, terminal));
  const updates = () => fake.requests.filter((r) => r.method === 'POST');
  return { fake, run, updates };
}

test('numbers lists each number with where its calls and status callbacks go, aligned; --json for machines', async (t) => {
  const { fake, run } = await setup(t);
  fake.addNumber(NUMBER, { voiceUrl: 'https://old.example/voice', friendlyName: 'Main line' });
  fake.addNumber('+15555550777', { voiceApplicationSid: 'AP' + 'a'.repeat(32), statusCallback: STATUS });

  const listed = await run(['numbers']);
  assert.equal(listed.code, 0, listed.err);
  const app = `TwiML application AP${'a'.repeat(32)}`;
  const voiceWidth = `voice ${app}`.length;
  const statusWidth = `status POST ${STATUS}`.length;
  assert.deepEqual(listed.out.split('\n'), [
    `${NUMBER}  ${'voice POST https://old.example/voice'.padEnd(voiceWidth)}  ${'status none'.padEnd(statusWidth)}  Main line`,
    `+15555550777  voice ${app}  status POST ${STATUS}`,
  ]);

  const json = await run(['numbers', '--json']);
  assert.equal(json.code, 0, json.err);
  const numbers = JSON.parse(json.out) as Record<string, unknown>[];
  assert.equal(numbers.length, 2);
  assert.deepEqual(numbers[0], {
    sid: numbers[0]?.sid,
    phoneNumber: NUMBER,
    friendlyName: 'Main line',
    voiceUrl: 'https://old.example/voice',
    voiceMethod: 'POST',
    statusCallback: null,
    statusCallbackMethod: 'POST',
    voiceApplicationSid: null,
    trunkSid: null,
  });
  assert.match(String(numbers[0]?.sid), /^PN[0-9a-f]{32}$/);
});

test('setup shows the change and, with no terminal to ask on and no --yes, refuses (exit 2) and changes nothing', async (t) => {
  const { fake, run, updates } = await setup(t);
  const sid = fake.addNumber(NUMBER, { voiceUrl: 'https://old.example/voice', friendlyName: 'Main line' });

  const refused = await run(['setup', '--number', NUMBER]);
  assert.equal(refused.code, 2);
  assert.deepEqual(refused.out.split('\n'), [
    `${NUMBER} (Main line) in account ${ACCOUNT}:`,
    `  voice webhook    POST https://old.example/voice  ->  POST ${VOICE}`,
    `  status callback  none  ->  POST ${STATUS}`,
  ]);
  assert.match(refused.err, /not changed: standard input is not a terminal .*run again with --yes/);
  assert.deepEqual(updates(), []);
  assert.equal(fake.numberResource(sid)?.voice_url, 'https://old.example/voice');

  const declined = person('n');
  const no = await run(['setup', '--number', NUMBER], declined);
  assert.equal(no.code, 1);
  assert.deepEqual(declined.asked, ['Make this change? [y/N] ']);
  assert.match(no.out, /not changed$/);
  assert.deepEqual(updates(), []);
});

test('setup --yes points the number at PUBLIC_URL, reads it back; a second run changes nothing', async (t) => {
  const { fake, run, updates } = await setup(t);
  const sid = fake.addNumber(NUMBER, { voiceUrl: 'https://old.example/voice', voiceMethod: 'GET' });

  const done = await run(['setup', '--number', NUMBER, '--yes']);
  assert.equal(done.code, 0, done.err);
  assert.ok(done.out.includes(`  voice webhook    GET https://old.example/voice  ->  POST ${VOICE}\n`));
  assert.ok(done.out.endsWith(`\n${NUMBER} now points at POST ${VOICE}, status callback POST ${STATUS}`));
  const [update, ...more] = updates();
  assert.equal(more.length, 0);
  assert.equal(update?.path, `/2010-04-01/Accounts/${ACCOUNT}/IncomingPhoneNumbers/${sid}.json`);
  assert.deepEqual(Object.fromEntries(update?.form ?? []), {
    VoiceUrl: VOICE,
    VoiceMethod: 'POST',
    StatusCallback: STATUS,
    StatusCallbackMethod: 'POST',
  });
  assert.equal(fake.requests.at(-1)?.method, 'GET', 'the number is read back after the update');
  assert.equal(fake.requests.at(-1)?.path, update?.path);
  assert.equal(fake.numberResource(sid)?.voice_url, VOICE);
  assert.equal(fake.numberResource(sid)?.status_callback, STATUS);

  const again = await run(['setup', '--number', NUMBER]);
  assert.equal(again.code, 0, again.err);
  assert.match(again.out, /already points at this server: .*nothing to change/);
  assert.equal(updates().length, 1, 'no second update');
});

test('setup --flow NAME puts ?flow=NAME on the voice webhook, once confirmed at the terminal', async (t) => {
  const { fake, run } = await setup(t, { PUBLIC_URL: `${PUBLIC_URL}/` });
  const sid = fake.addNumber(NUMBER);
  const yes = person('y');
  const done = await run(['setup', '--number', NUMBER, '--flow', 'pizza'], yes);
  assert.equal(done.code, 0, done.err);
  assert.equal(yes.asked.length, 1);
  assert.equal(fake.numberResource(sid)?.voice_url, `${VOICE}?flow=pizza`);
});

test('a TwiML application taking the calls is shown and removed; a SIP trunk is refused', async (t) => {
  const { fake, run, updates } = await setup(t);
  const app = 'AP' + 'b'.repeat(32);
  const sid = fake.addNumber(NUMBER, { voiceApplicationSid: app, voiceUrl: VOICE, statusCallback: STATUS });
  const done = await run(['setup', '--number', NUMBER, '--yes']);
  assert.equal(done.code, 0, done.err);
  assert.ok(done.out.includes(`  voice webhook      POST ${VOICE} (unchanged)\n`), done.out);
  assert.ok(done.out.includes(`  TwiML application  ${app} (takes the calls now)  ->  none\n`), done.out);
  assert.equal(updates()[0]?.form.get('VoiceApplicationSid'), '');
  assert.equal(fake.numberResource(sid)?.voice_application_sid, null);

  fake.addNumber('+15555550777', { trunkSid: 'TK' + 'c'.repeat(32) });
  const trunk = await run(['setup', '--number', '+15555550777', '--yes']);
  assert.equal(trunk.code, 1);
  assert.match(trunk.err, /\+15555550777 is on SIP trunk TKc+, which takes its calls/);
  assert.equal(updates().length, 1);
});

test('a number the account does not have is exit 1, naming it', async (t) => {
  const { fake, run, updates } = await setup(t);
  fake.addNumber('+155555501009'); // contains NUMBER: Twilio's filter matches it, the command must not
  const r = await run(['setup', '--number', NUMBER, '--yes']);
  assert.equal(r.code, 1);
  assert.equal(
    r.err,
    `switchboard twilio: account ${ACCOUNT} has no number ${NUMBER} (see "switchboard twilio numbers")`,
  );
  assert.deepEqual(updates(), []);
});

test('usage errors exit 2 before any request: a bad --flow, a malformed number, missing settings', async (t) => {
  const { fake, run } = await setup(t);
  fake.addNumber(NUMBER);
  const typo = await run(['setup', '--number', NUMBER, '--flow', 'piza', '--yes']);
  assert.equal(typo.code, 2);
  assert.match(typo.err, /no flow "piza": .*did you mean "pizza"\?/);
  assert.doesNotMatch(typo.err, /pass a path/, 'the server offers flows by id only');
  const path = await run(['setup', '--number', NUMBER, '--flow', './pizza.json', '--yes']);
  assert.equal(path.code, 2);
  assert.match(path.err, /--flow takes a flow id/);
  await writeFile(
    join(process.env.FLOWS_DIR!, 'promo.json'),
    JSON.stringify({ ...pizza, id: 'pizza-promo' }),
  );
  const renamed = await run(['setup', '--number', NUMBER, '--flow', 'promo', '--yes']);
  assert.equal(renamed.code, 2);
  assert.match(renamed.err, /promo\.json defines flow "pizza-promo", not "promo"/);
  const malformed = await run(['setup', '--number', '555-0100']);
  assert.equal(malformed.code, 2);
  assert.match(malformed.err, /E\.164/);
  for (const args of [
    ['setup'],
    ['numbers', '--yes'],
    ['setup', '--number', NUMBER, '--json'],
    ['nope'],
    [],
  ]) {
    assert.equal((await run(args)).code, 2, args.join(' '));
  }
  assert.deepEqual(fake.requests, []);

  process.env.PUBLIC_URL = '';
  const noUrl = await run(['setup', '--number', NUMBER, '--yes']);
  assert.equal(noUrl.code, 2);
  assert.match(noUrl.err, /set PUBLIC_URL/);
  delete process.env.TWILIO_AUTH_TOKEN;
  const noToken = await run(['numbers']);
  assert.equal(noToken.code, 2);
  assert.match(noToken.err, /set TWILIO_AUTH_TOKEN/);
  process.env.TWILIO_AUTH_TOKEN = TOKEN;
  process.env.TWILIO_API_URL = 'http://twilio-fake.example';
  const cleartext = await run(['numbers']);
  assert.equal(cleartext.code, 2);
  assert.match(cleartext.err, /TWILIO_API_URL must use https/);
  process.env.TWILIO_ACCOUNT_SID = 'SK' + '0'.repeat(32);
  const badSid = await run(['numbers']);
  assert.equal(badSid.code, 2);
  assert.match(badSid.err, /TWILIO_ACCOUNT_SID must be "AC"/);
  assert.deepEqual(fake.requests, []);
});

test("wrong credentials surface Twilio's 20003 and say what to check", async (t) => {
  const { fake, run } = await setup(t, { TWILIO_AUTH_TOKEN: 'wrong-token' });
  fake.addNumber(NUMBER);
  for (const args of [['numbers'], ['setup', '--number', NUMBER, '--yes']]) {
    const r = await run(args);
    assert.equal(r.code, 1, args.join(' '));
    assert.match(
      r.err,
      /answered HTTP 401 \(Twilio error 20003\): Authenticate; Twilio refused the credentials: check TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN; https:\/\/www\.twilio\.com\/docs\/errors\/20003$/,
    );
  }
  assert.deepEqual(
    fake.requests.map((r) => `${r.method} ${r.status}`),
    ['GET 401', 'GET 401'],
  );
});
