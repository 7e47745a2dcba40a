/**
 * The formatting check of `npm run lint` (package.json) leaves flows/ alone: it holds the user's own flows,
 * written by hand, which must not fail `npm test`. Formatting one stays possible, as docs/flows.md says, with
 * `npx prettier --write flows/NAME.json`. Each case runs the real command in a folder set up like the project.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const BIN = join(ROOT, 'node_modules', '.bin');

const scripts = (
  JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> }
).scripts;
/** The formatting part of the lint script, e.g. `prettier --check .`. */
const formatCheck = (scripts.lint ?? '').split('&&').find((part) => part.trim().startsWith('prettier '));

const HAND_FORMATTED_FLOW =
  '{"id":"pharmacy","version":1,"start":"hi",\n   "states":{"hi":{"say":"Pharmacy, hello.","hangup":true}}}\n';

/** A folder with the project's formatter settings and `files`; removed when the test ends. */
async function project(ctx: TestContext, files: Record<string, string>): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'switchboard-lint-'));
  ctx.after(() => rm(dir, { recursive: true, force: true }));
  for (const name of ['package.json', '.prettierrc.json', '.prettierignore']) {
    await copyFile(join(ROOT, name), join(dir, name));
  }
  for (const [name, text] of Object.entries(files)) {
    await mkdir(dirname(join(dir, name)), { recursive: true });
    await writeFile(join(dir, name), text);
  }
  return dir;
}

/** Runs `command` with sh in `cwd`, with the project's tools on the PATH as `npm run` puts them. */
function run(cwd: string, command: string): Promise<{ code: number; output: string }> {
  return new Promise((resolve) => {
    execFile(
      'sh',
      ['-c', command],
      { cwd, env: { ...process.env, PATH: `${BIN}${delimiter}${process.env.PATH ?? ''}` } },
      (err, stdout, stderr) => resolve({ code: err ? Number(err.code ?? 1) : 0, output: stdout + stderr }),
    );
  });
}

test('the lint script checks formatting with prettier', () => {
  assert.ok(formatCheck, `no prettier command in the lint script: ${scripts.lint}`);
});

test("lint passes with a user's hand-formatted flow in flows/", async (ctx) => {
  const dir = await project(ctx, { 'flows/pharmacy.json': HAND_FORMATTED_FLOW });
  const { code, output } = await run(dir, formatCheck ?? 'false');
  assert.equal(code, 0, output);
});

test("lint still fails on the project's own files that are not formatted", async (ctx) => {
  const dir = await project(ctx, {
    'flows/pharmacy.json': HAND_FORMATTED_FLOW,
    'src/greeting.ts': 'export const greeting = "hello"\n',
    'test/fixtures/flows/broken.json': '{"id":\n"broken"}\n',
  });
  const { code, output } = await run(dir, formatCheck ?? 'false');
  assert.notEqual(code, 0);
  assert.match(output, /src\/greeting\.ts/);
  assert.match(output, /test\/fixtures\/flows\/broken\.json/);
  assert.doesNotMatch(output, /pharmacy/);
});

test('npx prettier --write formats a flow in flows/ when asked', async (ctx) => {
  const dir = await project(ctx, { 'flows/pharmacy.json': HAND_FORMATTED_FLOW });
  const { code, output } = await run(dir, 'prettier --write flows/pharmacy.json');
  assert.equal(code, 0, output);
  const formatted = await readFile(join(dir, 'flows/pharmacy.json'), 'utf8');
  assert.notEqual(formatted, HAND_FORMATTED_FLOW);
  assert.deepEqual(JSON.parse(formatted), JSON.parse(HAND_FORMATTED_FLOW));
  assert.equal((await run(dir, 'prettier --check flows/pharmacy.json')).code, 0);
});
