/** The graph command: printing or writing a diagram, flows by id, and its exit codes. */
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { mock, test, type TestContext } from 'node:test';
import { main } from '../../../src/cli/graph.ts';
import { toDot, toMermaid } from '../../../src/flow/graph.ts';
import { DEMO_PATH, demo } from './graph-helpers.ts';

/** Runs the CLI with console output captured; the console is restored even when main throws. */
async function run(args: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const log = mock.method(console, 'log', (...a: unknown[]) => void out.push(a.join(' ')));
  const error = mock.method(console, 'error', (...a: unknown[]) => void err.push(a.join(' ')));
  try {
    const code = await main(args);
    return { code, out: out.join('\n'), err: err.join('\n') };
  } finally {
    log.mock.restore();
    error.mock.restore();
  }
}

async function tempDir(ctx: TestContext): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'switchboard-graph-'));
  ctx.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

test('graph CLI: a good file prints the diagram; -o writes it; a flow id is read from FLOWS_DIR', async (ctx) => {
  const flow = await demo();
  const good = await run([DEMO_PATH]);
  assert.equal(good.code, 0);
  assert.equal(`${good.out}\n`, toMermaid(flow));
  assert.equal(good.err, '');

  const dir = await tempDir(ctx);
  const file = join(dir, 'demo.dot');
  const written = await run([DEMO_PATH, '--format', 'dot', '-o', file]);
  assert.equal(written.code, 0);
  assert.equal(await readFile(file, 'utf8'), toDot(flow));

  await writeFile(join(dir, 'mine.json'), await readFile(DEMO_PATH, 'utf8'));
  const saved = process.env.FLOWS_DIR;
  process.env.FLOWS_DIR = dir;
  try {
    const byId = await run(['mine', '--format=dot']);
    assert.equal(byId.code, 0);
    assert.equal(`${byId.out}\n`, toDot(flow));
  } finally {
    if (saved === undefined) delete process.env.FLOWS_DIR;
    else process.env.FLOWS_DIR = saved;
  }

  const help = await run(['--help']);
  assert.equal(help.code, 0);
  assert.match(help.out, /usage: switchboard graph FLOW/);
});

test('graph CLI: invalid flow, bad JSON and missing files exit 1; bad usage exits 2', async (ctx) => {
  const dir = await tempDir(ctx);
  const invalid = join(dir, 'invalid.json');
  await writeFile(invalid, JSON.stringify({ id: 'x', version: 1, start: 'a', states: { a: { next: 'b' } } }));
  const bad = await run([invalid]);
  assert.equal(bad.code, 1);
  assert.equal(bad.out, '');
  assert.match(bad.err, /invalid\.json: error \/states\/a\/next unknown state "b" \(hint: known states: a\)/);
  assert.match(bad.err, /invalid\.json: 1 error, 0 warnings/);

  const notJson = join(dir, 'broken.json');
  await writeFile(notJson, '{ "id": ');
  const broken = await run([notJson]);
  assert.equal(broken.code, 1);
  assert.match(broken.err, /broken\.json: error .*line 1, column \d+/);

  const missing = await run([join(dir, 'nope.json')]);
  assert.equal(missing.code, 1);
  assert.match(missing.err, /cannot read .*nope\.json: no such file/);
  assert.doesNotMatch(missing.err, /\n\s+at /, 'no stack trace');

  const format = await run([DEMO_PATH, '--format', 'svg']);
  assert.equal(format.code, 2);
  assert.match(format.err, /unknown --format "svg" \(use mermaid or dot\)/);

  assert.equal((await run([])).code, 2);
  assert.equal((await run([DEMO_PATH, '--colour'])).code, 2);
});
