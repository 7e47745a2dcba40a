/**
 * Promoting a candidate model and rolling back (`switchboard models`): the flow library gives new calls the
 * live version on its next check, calls under way keep theirs, and an edit of the flow's examples sets a
 * promotion aside.
 */
import assert from 'node:assert/strict';
import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test, type TestContext } from 'node:test';
import { main as modelsMain } from '../../../src/cli/models.ts';
import { FlowLibrary } from '../../../src/config/flow-library.ts';
import { FlowModels } from '../../../src/config/flow-models.ts';
import type { FlowFile } from '../../../src/flow/index.ts';
import { FLOW_TRAINING_OPTIONS, flowTrainingData } from '../../../src/flow/training-data.ts';
import { ModelCache, modelVersion } from '../../../src/nlu/model-cache.ts';
import { memoryLogger } from '../../../src/observability/logger.ts';
import { exampleFlowFile } from '../../fixtures/example-flows.ts';

let root: string;
let flowsDir: string;
let flowFile: string;
let cache: ModelCache;
const savedModelsDir = process.env.MODELS_DIR;

before(async () => {
  root = await mkdtemp(join(tmpdir(), 'switchboard-promotion-'));
  flowsDir = join(root, 'flows');
  await mkdir(flowsDir);
  flowFile = join(flowsDir, 'pharmacy.json');
  await copyFile(exampleFlowFile('pharmacy'), flowFile);
  process.env.MODELS_DIR = join(root, 'models');
  cache = new ModelCache({ dir: process.env.MODELS_DIR });
});

after(async () => {
  if (savedModelsDir === undefined) delete process.env.MODELS_DIR;
  else process.env.MODELS_DIR = savedModelsDir;
  await rm(root, { recursive: true, force: true });
});

function cli(t: TestContext): { out: string[]; err: string[] } {
  const out: string[] = [];
  const err: string[] = [];
  t.mock.method(console, 'log', (...a: unknown[]) => void out.push(a.join(' ')));
  t.mock.method(console, 'error', (...a: unknown[]) => void err.push(a.join(' ')));
  return { out, err };
}

test('promote gives new calls the candidate, calls under way keep theirs, and rollback goes back', async (t) => {
  const log = memoryLogger();
  const library = new FlowLibrary({
    dir: flowsDir,
    logger: log.logger,
    models: new FlowModels({ cache, logger: log.logger }),
    modelCheckMs: 0,
  });
  await library.load();
  t.after(() => library.close());
  const flow = JSON.parse(await readFile(flowFile, 'utf8')) as FlowFile;
  const own = modelVersion(flowTrainingData(flow), FLOW_TRAINING_OPTIONS);
  const first = library.models.get('pharmacy')!;
  assert.equal(first.version, own);

  // A candidate with one more refill example, as `train FLOW --with` makes one.
  const data = flowTrainingData(flow);
  data.intents['refill'] = [...data.intents['refill']!, 'get my pills topped up'];
  const candidate = (await cache.ensure('pharmacy', data, FLOW_TRAINING_OPTIONS)).version;
  assert.notEqual(candidate, own);

  const letGo = first.retain(); // a call under way
  let io = cli(t);
  assert.equal(await modelsMain(['promote', flowFile, candidate]), 0, io.err.join('\n'));
  assert.match(
    io.out.join('\n'),
    new RegExp(`${candidate} is live for new calls of pharmacy \\(was ${own}\\)`),
  );
  await library.refreshModels();
  assert.equal(library.models.get('pharmacy')!.version, candidate);
  assert.ok(
    log.records.some(
      (r) => r.msg === 'intent model changed for new calls' && r['modelVersion'] === candidate,
    ),
  );
  assert.equal(first.isReleased, false, 'the call under way keeps its model');
  letGo();
  await first.released;

  assert.equal(await modelsMain(['list', flowFile]), 0);
  const listed = io.out.join('\n');
  assert.match(
    listed,
    new RegExp(`${candidate}  live\\s+\\d+ examples, \\d+\\.\\d% right on them, threshold 0\\.\\d{3}`),
  );
  assert.match(listed, new RegExp(`${own}  own\\s+\\d+ examples`));
  t.mock.restoreAll();

  io = cli(t);
  assert.equal(await modelsMain(['rollback', flowFile]), 0, io.err.join('\n'));
  assert.match(
    io.out.join('\n'),
    new RegExp(`${own} is live for new calls of pharmacy \\(was ${candidate}\\)`),
  );
  await library.refreshModels();
  assert.equal(library.models.get('pharmacy')!.version, own);
  assert.equal(await modelsMain(['rollback', flowFile]), 1);
  assert.match(io.err.at(-1)!, /nothing to roll back: pharmacy's own model \S+ is live/);
  assert.equal(await modelsMain(['promote', flowFile, 'nope']), 1);
  assert.match(io.err.at(-1)!, /no model version nope of pharmacy/);
  assert.equal(await modelsMain(['promote', flowFile]), 2);
  t.mock.restoreAll();

  // Shadowed on live calls first (NLU_SHADOW), the candidate is listed as such.
  io = cli(t);
  process.env.NLU_SHADOW = `pharmacy=${candidate}`;
  t.after(() => delete process.env.NLU_SHADOW);
  assert.equal(await modelsMain(['list', flowFile]), 0, io.err.join('\n'));
  assert.match(io.out.join('\n'), new RegExp(`${candidate}  shadow \\(NLU_SHADOW\\)\\s+\\d+ examples`));
  process.env.NLU_SHADOW = 'pharmacy=../up';
  assert.equal(await modelsMain(['list', flowFile]), 1);
  assert.match(io.err.at(-1)!, /NLU_SHADOW: "pharmacy=..\/up" is not FLOW=VERSION/);
  delete process.env.NLU_SHADOW;
  t.mock.restoreAll();

  // Promoted again, then the flow's examples change: its own (new) model serves, and the log says why.
  io = cli(t);
  assert.equal(await modelsMain(['promote', flowFile, candidate]), 0, io.err.join('\n'));
  t.mock.restoreAll();
  const edited: FlowFile = {
    ...flow,
    version: flow.version + 1,
    intents: {
      ...flow.intents,
      refill: { examples: [...flow.intents!['refill']!.examples, 'refill my meds'] },
    },
  };
  await writeFile(flowFile, JSON.stringify(edited));
  await library.load();
  const now = library.models.get('pharmacy')!;
  assert.equal(now.version, modelVersion(flowTrainingData(edited), FLOW_TRAINING_OPTIONS));
  assert.ok(log.records.some((r) => r.msg.startsWith('promoted intent model set aside')));
});
