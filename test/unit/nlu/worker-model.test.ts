/**
 * An intent model in a worker thread (worker-model.ts), as a shadow runs: the same answers as the model on the
 * main thread, a bounded queue, typed errors for a folder that cannot serve and after release; and NLU_SHADOW
 * read as documented.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { isSwitchboardError } from '../../../src/errors.ts';
import { ModelCache } from '../../../src/nlu/model-cache.ts';
import { IntentModel, MODEL_JSON } from '../../../src/nlu/model-dir.ts';
import { parseShadowSetting, shadowVersion } from '../../../src/nlu/shadow.ts';
import { WorkerIntentModel } from '../../../src/nlu/worker-model.ts';

let root: string;
let dir: string;

before(async () => {
  root = await mkdtemp(join(tmpdir(), 'switchboard-worker-model-'));
  const cache = new ModelCache({ dir: root });
  const data = {
    intents: {
      refill: ['refill my prescription', 'i need a refill', 'renew my medication'],
      hours: ['when are you open', 'what are your hours', 'are you open today'],
    },
    outOfScope: ['what is the weather', 'tell me a joke'],
  };
  dir = (await cache.ensure('shop', data, { epochs: 40, hidden: 16, seed: 1 })).dir;
});

after(() => rm(root, { recursive: true, force: true }));

const TEXTS = ['refill my prescription', 'are you open on sunday', 'tell me about the moon', '', 'renew it'];

test('answers as the same model on the main thread does, and frees its thread on release', async () => {
  const here = await IntentModel.load(dir);
  const worker = await WorkerIntentModel.load(dir);
  assert.deepEqual(worker.labels, here.labels);
  assert.equal(worker.threshold, here.threshold);
  const answers = await Promise.all(TEXTS.map((t) => worker.classify(t)));
  for (const [i, text] of TEXTS.entries()) assert.deepEqual(answers[i], await here.classify(text), text);
  await here.release();
  await worker.release();
  await assert.rejects(worker.classify('refill'), (err) => isSwitchboardError(err, 'NLU_INFERENCE_FAILED'));
  await worker.release(); // again: nothing to do
});

test('past its queue a request is refused at once with NLU_BUSY; the ones queued are answered', async () => {
  const worker = await WorkerIntentModel.load(dir, { maxPending: 3 });
  const queued = [1, 2, 3].map((i) => worker.classify(`refill number ${i}`));
  assert.equal(worker.pending, 3);
  await assert.rejects(worker.classify('one too many'), (err) => isSwitchboardError(err, 'NLU_BUSY'));
  const answers = await Promise.all(queued);
  assert.ok(
    answers.every((a) => a.intent === 'refill'),
    JSON.stringify(answers),
  );
  assert.equal(worker.pending, 0);
  assert.equal((await worker.classify('when are you open')).intent, 'hours');
  await worker.release();
});

test('a folder that cannot serve is NLU_MODEL_INVALID naming why', async () => {
  await assert.rejects(
    WorkerIntentModel.load(join(root, 'nowhere')),
    (err) => isSwitchboardError(err, 'NLU_MODEL_INVALID') && /model\.json is missing/.test(err.message),
  );
  const broken = join(root, 'broken');
  await rm(broken, { recursive: true, force: true });
  await import('node:fs/promises').then((fs) => fs.mkdir(broken));
  await writeFile(join(broken, MODEL_JSON), '{"formatVersion": 1');
  await assert.rejects(WorkerIntentModel.load(broken), (err) => isSwitchboardError(err, 'NLU_MODEL_INVALID'));
});

test('NLU_SHADOW names one version for any flow, or versions per flow; anything else is CONFIG_INVALID', () => {
  assert.equal(shadowVersion(parseShadowSetting(undefined), 'shop'), null);
  assert.equal(shadowVersion(parseShadowSetting('  '), 'shop'), null);
  const any = parseShadowSetting('abc123');
  assert.equal(shadowVersion(any, 'shop'), 'abc123');
  assert.equal(shadowVersion(any, 'clinic'), 'abc123');
  const perFlow = parseShadowSetting('shop=v1, clinic = v2');
  assert.equal(shadowVersion(perFlow, 'shop'), 'v1');
  assert.equal(shadowVersion(perFlow, 'clinic'), 'v2');
  assert.equal(shadowVersion(perFlow, 'demo'), null);
  for (const bad of ['a b', 'shop=', '=v1', 'shop=v1=v2', 'shop=v1,shop=v2', '../x', 'shop=../v1'])
    assert.throws(
      () => parseShadowSetting(bad),
      (err) => isSwitchboardError(err, 'CONFIG_INVALID') && /NLU_SHADOW/.test(err.message),
      bad,
    );
});
