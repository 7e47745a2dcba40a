/**
 * The tests serve a copy of the shipped example flows, never flows/ itself, so a flow a user adds there (as
 * docs/flows.md tells them to), finished or not, changes nothing the tests see.
 */
import assert from 'node:assert/strict';
import { copyFile, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { FlowLibrary } from '../../../src/config/flow-library.ts';
import { memoryLogger } from '../../../src/observability/logger.ts';
import { copyExampleFlows, EXAMPLE_FLOWS, exampleFlowFile } from '../../fixtures/example-flows.ts';

test("the examples' copy leaves out the flows a user added beside them, and serves every example", async (ctx) => {
  // A flows/ folder as a user leaves it: the examples, a hand-formatted flow of their own and one half written.
  const userFlows = await mkdtemp(join(tmpdir(), 'switchboard-user-flows-'));
  ctx.after(() => rm(userFlows, { recursive: true, force: true }));
  for (const id of EXAMPLE_FLOWS) await copyFile(exampleFlowFile(id), join(userFlows, `${id}.json`));
  await writeFile(
    join(userFlows, 'pharmacy.json'),
    '{"id":"pharmacy","version":1,"start":"hi",\n  "states":{"hi":{"say":"Pharmacy, hello.","hangup":true}}}\n',
  );
  await writeFile(join(userFlows, 'draft.json'), '{ "id": "draft", "states": {');

  const copy = await copyExampleFlows(userFlows);
  ctx.after(() => copy.remove());
  assert.deepEqual((await readdir(copy.dir)).sort(), EXAMPLE_FLOWS.map((id) => `${id}.json`).sort());

  const { logger, records } = memoryLogger('debug');
  const library = new FlowLibrary({ dir: copy.dir, logger });
  ctx.after(() => library.close());
  await library.load();
  assert.deepEqual([...library.flows.keys()].sort(), [...EXAMPLE_FLOWS].sort());
  assert.deepEqual(library.rejected, []);
  assert.ok(!records.some((r) => r.level === 'error'), 'nothing was logged as an error');
});

test('the copy is removed with the folder it made', async () => {
  const copy = await copyExampleFlows();
  await copy.remove();
  await assert.rejects(readdir(copy.dir), { code: 'ENOENT' });
});
