/**
 * `switchboard validate` checks what it is pointed at, as the other flow commands resolve it: a flow id in
 * FLOWS_DIR, a folder of flows, files; a run that checked nothing, or two files with one id, fails. It lists the
 * environment variables each flow reads and warns about those not set. `graph` notes them too.
 */
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { main as graph } from '../../../src/cli/graph.ts';
import { main as validate } from '../../../src/cli/validate.ts';
import { captureConsole } from '../../fixtures/console.ts';

const refills = {
  id: 'refills',
  version: 1,
  start: 'submit',
  states: {
    submit: {
      say: 'One moment.',
      http: { url: '{{env.REFILLS_URL}}/refills', body: { rx: '1' } },
      next: 'done',
      onError: 'done',
    },
    done: { say: 'Goodbye.', hangup: true },
  },
};
const hello = {
  id: 'hello',
  version: 1,
  start: 'hi',
  states: { hi: { say: 'Hello.', hangup: true } },
};

/** A flows folder holding `files` (name to JSON), set as FLOWS_DIR for the test; REFILLS_URL unset. */
async function flowsDir(ctx: TestContext, files: Record<string, unknown>): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'switchboard-validate-'));
  for (const [name, value] of Object.entries(files)) {
    await writeFile(join(dir, name), typeof value === 'string' ? value : JSON.stringify(value));
  }
  const saved = { FLOWS_DIR: process.env.FLOWS_DIR, REFILLS_URL: process.env.REFILLS_URL };
  process.env.FLOWS_DIR = dir;
  delete process.env.REFILLS_URL;
  ctx.after(async () => {
    for (const [name, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
    await rm(dir, { recursive: true, force: true });
  });
  return dir;
}

test('validate NAME checks $FLOWS_DIR/NAME.json, as graph, chat, train and nlu read it', async (ctx) => {
  const dir = await flowsDir(ctx, { 'hello.json': hello });
  const r = await captureConsole(ctx, () => validate(['hello']));
  assert.equal(r.out, `${join(dir, 'hello.json')}: ok (1 states)`);
  assert.equal(r.code, 0);
});

test('validate NAME for a flow that is not there fails with "did you mean" among FLOWS_DIR', async (ctx) => {
  await flowsDir(ctx, { 'hello.json': hello, 'refills.json': refills });
  const r = await captureConsole(ctx, () => validate(['refils']));
  assert.equal(r.code, 1);
  assert.match(r.out, /error no flow "refils": cannot read the file: no such file/);
  assert.match(r.out, /hint: did you mean "refills"\? known flows: hello, refills/);
});

test('validate DIR checks every flow file in the folder, skipping the schema and other files', async (ctx) => {
  const dir = await flowsDir(ctx, {
    'hello.json': hello,
    'refills.json': refills,
    'flow.schema.json': { $schema: 'https://json-schema.org/draft/2020-12/schema' },
    'README.md': '# flows',
  });
  const r = await captureConsole(ctx, () => validate([dir]));
  assert.equal(r.code, 0);
  assert.match(r.out, /hello\.json: ok \(1 states\)/);
  assert.match(r.out, /refills\.json: ok \(2 states, 1 warning; reads env REFILLS_URL\)/);
  assert.doesNotMatch(r.out, /schema|README/);
  assert.match(r.out, /2 files: all valid$/);
  // The folder and a file in it, named together, check that file once.
  const twice = await captureConsole(ctx, () => validate([dir, join(dir, 'hello.json')]));
  assert.equal(twice.code, 0);
  assert.match(twice.out, /2 files: all valid$/);
});

test('validate fails when it checked nothing: only non-flow files, or an empty folder', async (ctx) => {
  const dir = await flowsDir(ctx, { 'flow.schema.json': {} });
  const schema = await captureConsole(ctx, () => validate([join(dir, 'flow.schema.json')]));
  assert.equal(schema.code, 1);
  assert.match(schema.out, /flow\.schema\.json: skipped \(not a flow file\)/);
  assert.match(schema.err, /no flow was checked/);
  const empty = join(dir, 'empty');
  await mkdir(empty);
  const folder = await captureConsole(ctx, () => validate(['--json', empty]));
  assert.equal(folder.code, 1);
  assert.equal(folder.out, '[]');
  assert.match(folder.err, /no flow was checked/);
});

test('two files with the same id: the second is an error, as the server refuses it', async (ctx) => {
  const dir = await flowsDir(ctx, { 'a.json': hello, 'b.json': { ...hello, version: 2 } });
  const r = await captureConsole(ctx, () => validate([join(dir, 'a.json'), join(dir, 'b.json')]));
  assert.equal(r.code, 1);
  assert.match(r.out, /a\.json: ok/);
  assert.match(
    r.out,
    new RegExp(`b\\.json: error /id another file \\(${join(dir, 'a.json')}\\) already defines flow "hello"`),
  );
  assert.match(r.out, /2 files: 1 with errors$/);
});

test('the environment variables a flow reads are listed; one not set here is a warning, not an error', async (ctx) => {
  const dir = await flowsDir(ctx, { 'refills.json': refills });
  const unset = await captureConsole(ctx, () => validate(['refills']));
  assert.equal(unset.code, 0);
  assert.match(
    unset.out,
    /refills\.json: warning environment variable REFILLS_URL is not set here \(hint: a warning only, as the server's machine may set it/,
  );
  const json = await captureConsole(ctx, () => validate(['--json', join(dir, 'refills.json')]));
  const [result] = JSON.parse(json.out) as {
    env: string[];
    findings: { severity: string; message: string }[];
  }[];
  assert.deepEqual(result?.env, ['REFILLS_URL']);
  assert.deepEqual(
    result?.findings.map((f) => [f.severity, f.message]),
    [['warning', 'environment variable REFILLS_URL is not set here']],
  );
  process.env.REFILLS_URL = 'http://127.0.0.1:9999';
  const set = await captureConsole(ctx, () => validate(['refills']));
  assert.equal(set.out, `${join(dir, 'refills.json')}: ok (2 states; reads env REFILLS_URL)`);
});

test('graph notes the environment variables the flow reads, on standard error', async (ctx) => {
  await flowsDir(ctx, { 'refills.json': refills });
  const r = await captureConsole(ctx, () => graph(['refills']));
  assert.equal(r.code, 0);
  assert.match(r.out, /^flowchart TD/);
  assert.equal(r.err, '(flow "refills" reads environment variables REFILLS_URL; not set here: REFILLS_URL)');
  const typo = await captureConsole(ctx, () => graph(['refils']));
  assert.equal(typo.code, 1);
  assert.match(typo.err, /no flow "refils": .* \(did you mean "refills"\? known flows: refills;/);
});
