/**
 * The command line as a newcomer meets it, through the real `switchboard` processes: exit codes a CI gate can
 * trust, errors that say what to do, and environment variables a flow reads that are not set named at start-up
 * and when a call needs them.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { FakeTwilioApiServer } from '../fakes/twilio-api/index.ts';
import { serve, type Served } from '../support/serve-process.ts';

const BIN = new URL('../../bin/switchboard.js', import.meta.url).pathname;

/** A refill flow whose web request and transfer read variables the tests leave unset. */
const refills = {
  id: 'refills',
  version: 1,
  start: 'submit',
  states: {
    submit: {
      say: 'One moment.',
      http: { url: '{{env.REFILLS_URL}}/refills', body: { rx: '1' } },
      next: 'done',
      onError: 'sorry',
    },
    done: { say: 'Done.', hangup: true },
    sorry: { say: 'Sorry, that did not work.', transfer: '{{env.REFILLS_LINE}}', onError: 'bye' },
    bye: { say: 'Goodbye.', hangup: true },
  },
};
const demo = { id: 'demo', version: 1, start: 'hi', states: { hi: { say: 'Hello.', hangup: true } } };

/** Variables the server must not see, whatever the environment running the tests sets. */
const UNSET = { REFILLS_URL: '', REFILLS_LINE: '' };

let flowsDir: string;
let server: Served;

before(async () => {
  flowsDir = await mkdtemp(join(tmpdir(), 'switchboard-cli-'));
  await writeFile(join(flowsDir, 'refills.json'), JSON.stringify(refills));
  await writeFile(join(flowsDir, 'demo.json'), JSON.stringify(demo));
  server = await serve({ FLOWS_DIR: flowsDir, STORE_URL: 'memory:', STT: 'off', NLU: 'off', ...UNSET });
});

after(async () => {
  server.child.kill('SIGTERM');
  await server.exited;
  await rm(flowsDir, { recursive: true, force: true });
});

/**
 * Runs `switchboard ARGS` to its end; `input` goes to its standard input. A process that has not ended after
 * two minutes (a server that hangs instead of exiting) is killed, and its code is null.
 */
function run(
  args: string[],
  env: Record<string, string> = {},
  input = '',
): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      env: { ...process.env, FLOWS_DIR: flowsDir, ...UNSET, ...env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (err += c.toString()));
    const hung = setTimeout(() => child.kill('SIGKILL'), 120_000);
    child.once('exit', (code) => {
      clearTimeout(hung);
      resolve({ code, out, err });
    });
    child.stdin.end(input);
  });
}

const logs = (text: string): Record<string, unknown>[] =>
  text
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>);

test('a second server on a busy port exits 1, naming the port and what to do, and ends its engines', async () => {
  const port = new URL(server.url).port;
  // The second server starts its engines (flite, speech recognition, the journal) before it listens: all of
  // them must be closed for the process to end by itself.
  const second = await run(['serve'], {
    PORT: port,
    HOST: '',
    TWILIO_AUTH_TOKEN: '',
    PUBLIC_URL: '',
    PROMPT_CACHE_DIR: 'off',
    NLU: 'off',
    STORE_URL: `sqlite:${join(flowsDir, 'second.db')}`,
  });
  assert.equal(second.code, 1, second.out + second.err);
  assert.match(
    second.err,
    new RegExp(
      `cannot listen on 127\\.0\\.0\\.1:${port}: the port is in use by another process; .*PORT=0 picks a free one`,
    ),
  );
  const refused = logs(second.out).find((l) => l.msg === 'server cannot listen');
  assert.equal(refused?.systemCode, 'EADDRINUSE');
  assert.doesNotMatch(second.out, /listening on/);
});

test('the banner names each unset variable a flow reads, the log warns, and memory: says calls are lost', async () => {
  assert.match(server.banner, /env\s+: not set: REFILLS_LINE, REFILLS_URL \(refills\)/);
  assert.match(server.banner, /journal\s+: memory .*calls do not survive a restart/);
  const warned = server.logs().find((l) => l.msg === 'flow reads environment variables that are not set');
  assert.equal(warned?.level, 'warn');
  assert.equal(warned?.flow, 'refills');
  assert.deepEqual(warned?.env, ['REFILLS_LINE', 'REFILLS_URL']);
});

test("a call's web request built from an unset variable fails naming it, logged at warn", async () => {
  const call = await run(['call', '--url', server.url, '--flow', 'refills', '--no-transcribe']);
  assert.equal(call.code, 0, call.err);
  assert.match(call.out, /agent hangs up/);
  const failed = server.logs().find((l) => l.msg === 'http action failed');
  assert.equal(failed?.level, 'warn');
  assert.equal(failed?.reason, 'REFILLS_URL is not set');
  assert.deepEqual(failed?.env, ['REFILLS_URL']);
});

test('call to a flow the server does not have exits 1 with its reason and "did you mean"', async () => {
  const call = await run(['call', '--url', server.url, '--flow', 'refils', '--dtmf', '1']);
  assert.equal(call.code, 1);
  assert.match(
    call.err,
    /switchboard call: the server did not connect the call to flow "refils": No flow with that name is loaded \(did you mean "refills"\? known flows: /,
  );
  const logged = server
    .logs()
    .find((l) => l.msg === 'incoming call for an unknown flow' && l.flow === 'refils');
  assert.match(String(logged?.hint), /did you mean "refills"\?/);
});

test('call with no server exits 1, saying which URL, why, and how to start one', async () => {
  const free = createServer();
  await new Promise<void>((resolve) => free.listen(0, '127.0.0.1', resolve));
  const { port } = free.address() as { port: number };
  await new Promise<void>((resolve) => free.close(() => resolve()));
  const call = await run(['call', '--dtmf', '1'], { PORT: String(port) });
  assert.equal(call.code, 1);
  assert.match(
    call.err,
    new RegExp(
      `cannot reach the server at http://127\\.0\\.0\\.1:${port}/twilio/voice: connection refused \\(ECONNREFUSED\\); is the server running\\? Start it with "npm start", or pass --url`,
    ),
  );
  assert.doesNotMatch(call.err, /fetch failed/);
});

test('usage errors exit 2 in every command; each --help documents the exit status', async () => {
  const usage = [
    ['call', '--nope'],
    ['call', '--url', 'localhost:8080'],
    ['call', '--hangup-after', 'soon'],
    ['serve', '--nope'],
    ['validate'],
    ['chat'],
    ['graph'],
    ['nlu'],
    ['train'],
    ['replay'],
    ['calls'],
    ['twilio'],
    ['twilio', 'setup', '--flow', 'demo'],
    [],
  ];
  for (const args of usage) {
    const r = await run(args);
    assert.equal(r.code, 2, `switchboard ${args.join(' ')}: ${r.err}`);
    assert.ok(r.err.length > 0, `switchboard ${args.join(' ')} says why on standard error`);
  }
  const commands = [
    'serve',
    'call',
    'validate',
    'graph',
    'chat',
    'train',
    'nlu',
    'replay',
    'calls',
    'twilio',
  ];
  for (const command of commands) {
    const help = await run([command, '--help']);
    assert.equal(help.code, 0);
    assert.match(help.out, /Exit status: 0 .*\b1\b.*\b2\b.*usage\s+error/s, `${command} --help`);
  }
});

test('twilio setup with its standard input on a pipe and no --yes shows the change, refuses (2), changes nothing', async (t) => {
  const account = 'AC' + '0123456789abcdef'.repeat(2);
  const fake = new FakeTwilioApiServer({ accountSid: account, authToken: 'token' });
  await fake.start();
  t.after(() => fake.close());
  const sid = fake.addNumber('+15555550100');
  const env = {
    TWILIO_ACCOUNT_SID: account,
    TWILIO_AUTH_TOKEN: 'token',
    TWILIO_API_URL: fake.url,
    PUBLIC_URL: 'https://voice.example.test',
  };
  const r = await run(['twilio', 'setup', '--number', '+15555550100', '--flow', 'demo'], env, 'y\n');
  assert.equal(r.code, 2, r.err);
  assert.match(
    r.out,
    /voice webhook +none +-> +POST https:\/\/voice\.example\.test\/twilio\/voice\?flow=demo/,
  );
  assert.match(r.err, /standard input is not a terminal .*--yes/);
  assert.deepEqual(
    fake.requests.map((q) => q.method),
    ['GET'],
  );
  assert.equal(fake.numberResource(sid)?.voice_url, null);
});

test('chat shows why a web request failed, naming the unset variable, besides the apology', async () => {
  const chat = await run(['chat', 'refills', '--exact'], {}, '');
  assert.equal(chat.code, 0, chat.err);
  assert.match(chat.out, /\(web request failed: REFILLS_URL is not set\)\nagent: Sorry, that did not work\./);
  const typo = await run(['chat', 'refils']);
  assert.equal(typo.code, 1);
  assert.match(typo.err, /no flow "refils": .*did you mean "refills"\?/);
});
