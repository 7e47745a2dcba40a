import assert from 'node:assert/strict';
import { mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { FlowLibrary } from '../../../src/config/flow-library.ts';
import { isSwitchboardError } from '../../../src/errors.ts';
import { memoryLogger, type LogRecord } from '../../../src/observability/logger.ts';

function flow(id: string, version: number, say: string): string {
  return JSON.stringify({ id, version, start: 'hello', states: { hello: { say, hangup: true } } });
}

async function folder(files: Record<string, string>): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'switchboard-flows-'));
  for (const [name, text] of Object.entries(files)) await writeFile(join(dir, name), text);
  return dir;
}

async function until(what: string, condition: () => boolean): Promise<void> {
  const end = Date.now() + 5000;
  while (!condition()) {
    if (Date.now() > end) throw new Error(`timed out waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** A library over a fresh folder holding `files`; closed and removed when the test ends. */
async function library(ctx: TestContext, files: Record<string, string>) {
  const dir = await folder(files);
  const { logger, records } = memoryLogger('debug');
  const lib = new FlowLibrary({ dir, logger, settleMs: 30 });
  await lib.load();
  const logged = (msg: string, match: (r: LogRecord) => boolean = () => true): LogRecord | undefined =>
    records.find((r) => r.msg === msg && match(r));
  ctx.after(async () => {
    await lib.close();
    await rm(dir, { recursive: true, force: true });
  });
  return { dir, lib, records, logged };
}

const sayOf = (lib: FlowLibrary, id: string): string | undefined => lib.flows.get(id)?.flow.states.hello?.say;

test('load serves the valid flows and reports the others with their findings', async (ctx) => {
  const t = await library(ctx, {
    'a.json': flow('a', 1, 'Hi'),
    'broken.json': '{ "id": ',
    'dup.json': flow('a', 2, 'Again'),
    'flow.schema.json': '{}',
    'notes.txt': 'not a flow',
  });
  assert.deepEqual([...t.lib.flows.keys()], ['a']);
  assert.equal(t.lib.flows.get('a')?.flow.version, 1);
  const refused = t.lib.rejected;
  assert.deepEqual(
    refused.map((r) => r.file),
    ['broken.json', 'dup.json'],
  );
  assert.match(refused[1]!.findings[0]!.message, /another file \(a\.json\) already defines flow "a"/);
  assert.ok(t.logged('flow refused', (r) => r.file === 'broken.json' && r.code === 'FLOW_INVALID'));
});

test('an edited file is reloaded for new calls; a flow already handed out is untouched', async (ctx) => {
  const t = await library(ctx, { 'a.json': flow('a', 1, 'Version one') });
  t.lib.watch();
  const pinned = t.lib.flows.get('a');
  await writeFile(join(t.dir, 'a.json'), flow('a', 2, 'Version two'));
  await until('v2 is live', () => t.lib.flows.get('a')?.flow.version === 2);
  assert.equal(sayOf(t.lib, 'a'), 'Version two');
  assert.equal(pinned?.flow.version, 1, 'a call holding v1 keeps v1');
  assert.equal(pinned?.flow.states.hello?.say, 'Version one');
  assert.ok(t.logged('flow reloaded for new calls', (r) => r.version === 2 && r.previousVersion === 1));
});

test('a broken edit keeps the last good version live and reports why; fixing it loads the fix', async (ctx) => {
  const t = await library(ctx, { 'a.json': flow('a', 1, 'Good') });
  t.lib.watch();
  await writeFile(
    join(t.dir, 'a.json'),
    JSON.stringify({ id: 'a', version: 2, start: 'nowhere', states: {} }),
  );
  await until(
    'the edit is refused',
    () => t.logged('flow edit refused; the last good version stays live') !== undefined,
  );
  assert.equal(sayOf(t.lib, 'a'), 'Good');
  const line = t.logged('flow edit refused; the last good version stays live');
  assert.equal(line?.liveVersion, 1);
  assert.ok(Array.isArray(line?.findings) && line.findings.length > 0);
  assert.deepEqual(
    t.lib.rejected.map((r) => r.file),
    ['a.json'],
  );

  await writeFile(join(t.dir, 'a.json'), flow('a', 3, 'Fixed'));
  await until('the fix is live', () => sayOf(t.lib, 'a') === 'Fixed');
  assert.deepEqual(t.lib.rejected, []);
});

test('saving through a temporary file and a rename (as editors do) reloads the flow', async (ctx) => {
  const t = await library(ctx, { 'a.json': flow('a', 1, 'Before') });
  t.lib.watch();
  await writeFile(join(t.dir, '.a.json.tmp'), flow('a', 2, 'After'));
  await rename(join(t.dir, '.a.json.tmp'), join(t.dir, 'a.json'));
  await until('the renamed file is live', () => sayOf(t.lib, 'a') === 'After');
});

test('a deleted file stops serving its flow; a new file adds one', async (ctx) => {
  const t = await library(ctx, { 'a.json': flow('a', 1, 'A') });
  t.lib.watch();
  await writeFile(join(t.dir, 'b.json'), flow('b', 1, 'B'));
  await until('b is live', () => t.lib.flows.has('b'));
  await rm(join(t.dir, 'a.json'));
  await until('a is gone', () => !t.lib.flows.has('a'));
  assert.ok(t.logged('flow removed for new calls', (r) => r.flow === 'a'));
});

test('a save that changes nothing reloads nothing; a change under the same version is flagged', async (ctx) => {
  const t = await library(ctx, { 'a.json': flow('a', 1, 'Same') });
  t.lib.watch();
  await writeFile(join(t.dir, 'a.json'), flow('a', 1, 'Same'));
  await writeFile(join(t.dir, 'a.json'), flow('a', 1, 'Changed'));
  await until('the change is live', () => sayOf(t.lib, 'a') === 'Changed');
  await t.lib.settled();
  assert.equal(t.records.filter((r) => r.msg === 'flow reloaded for new calls').length, 1);
  assert.ok(t.logged('flow changed without a new version number', (r) => r.version === 1));
});

test('a missing folder is a typed configuration error', async () => {
  const { logger } = memoryLogger();
  const lib = new FlowLibrary({ dir: join(tmpdir(), 'switchboard-no-such-folder'), logger });
  await assert.rejects(lib.load(), (err: unknown) => isSwitchboardError(err, 'CONFIG_INVALID'));
});

test('undoing a refused edit, or only re-laying out the file, is not a change under the same version', async (ctx) => {
  const good = flow('a', 1, 'Good');
  const t = await library(ctx, { 'a.json': good });
  const live = t.lib.flows.get('a');
  // Each step is read with load(), the same reload the watcher runs, so no step waits on file events.
  const edit = async (text: string): Promise<void> => {
    await writeFile(join(t.dir, 'a.json'), text);
    await t.lib.load();
  };
  // An edit in a word processor: its curly quotes are refused, and the file is then restored (git checkout).
  await edit(good.replace('"Good"', '\u201cBetter\u201d'));
  assert.deepEqual(
    t.lib.rejected.map((r) => r.file),
    ['a.json'],
  );
  await edit(good);
  assert.equal(t.logged('flow changed without a new version number'), undefined);
  assert.equal(t.logged('flow reloaded for new calls'), undefined);
  assert.deepEqual(t.lib.rejected, []);
  assert.ok(t.logged('flow file matches the live version again', (r) => r.file === 'a.json'));
  // The same flow laid out differently (an editor's formatter) is not a change either.
  await edit(JSON.stringify(JSON.parse(good), null, 2));
  assert.equal(t.logged('flow changed without a new version number'), undefined);
  assert.equal(t.logged('flow reloaded for new calls'), undefined);
  assert.equal(t.lib.flows.get('a'), live, 'the live flow was never replaced');

  // A real change that keeps the number still goes live, and is flagged.
  await edit(flow('a', 1, 'Changed'));
  assert.equal(sayOf(t.lib, 'a'), 'Changed');
  assert.ok(t.logged('flow changed without a new version number', (r) => r.version === 1));
});
