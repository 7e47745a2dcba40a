/**
 * Flows' intent models: the training data a flow gives, the content-keyed model cache (training in a worker
 * thread), models shared by calls and released after the last one, and the flow library publishing each flow
 * together with its model.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { FlowLibrary } from '../../../src/config/flow-library.ts';
import { FlowModels } from '../../../src/config/flow-models.ts';
import { isSwitchboardError } from '../../../src/errors.ts';
import type { FlowFile } from '../../../src/flow/index.ts';
import { FLOW_TRAINING_OPTIONS, flowTrainingData } from '../../../src/flow/training-data.ts';
import { BUILTIN_INTENTS } from '../../../src/nlu/builtin-intents.ts';
import { ModelCache, modelVersion, trainInWorker, type Trainer } from '../../../src/nlu/model-cache.ts';
import { IntentModel, writeModelDir } from '../../../src/nlu/model-dir.ts';
import { GENERIC_OUT_OF_SCOPE } from '../../../src/nlu/out-of-scope.ts';
import { SharedIntentModel } from '../../../src/nlu/shared-model.ts';
import { train } from '../../../src/nlu/trainer.ts';
import { memoryLogger } from '../../../src/observability/logger.ts';

const DATA = {
  intents: {
    hours: ['when are you open', 'what are your hours', 'are you open on sunday', 'opening times'],
    order: ['i want to order', 'can i order a pizza', 'i would like a pizza', 'pizza please'],
  },
  outOfScope: ['tell me a joke', 'what is the weather'],
};

async function tempDir(ctx: TestContext, prefix: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  ctx.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/** Trains in this thread (fast and countable); the worker is tested on its own below. */
function countingTrainer(): { trainer: Trainer; jobs: string[] } {
  const jobs: string[] = [];
  return {
    jobs,
    trainer: async (job) => {
      jobs.push(job.dir);
      await writeModelDir(train(job.data, { ...job.options, epochs: 5 }), job.dir);
    },
  };
}

function flowFile(id: string, version: number, orderExamples: string[], say = 'Hello'): FlowFile {
  return {
    id,
    version,
    intents: {
      order: { examples: orderExamples },
      hours: { examples: ['when are you open', 'opening hours'] },
    },
    start: 'menu',
    states: {
      menu: { say, on: { order: 'bye', hours: 'bye' } },
      bye: { say: 'Bye', hangup: true },
    },
  };
}

test('a flow trains on its intents, the built-ins it does not redefine, and generic out-of-scope text', () => {
  const flow = flowFile('f', 1, ['i want to order', 'tell me a joke']);
  flow.intents!['yes'] = { examples: ['yes indeed', 'sure'] };
  const data = flowTrainingData(flow);
  assert.deepEqual(Object.keys(data.intents).sort(), ['cancel', 'hours', 'no', 'order', 'repeat', 'yes']);
  // The flow's own yes replaces the built-in list; untouched built-ins keep theirs.
  assert.deepEqual(data.intents['yes'], ['yes indeed', 'sure']);
  assert.deepEqual(data.intents['no'], [...BUILTIN_INTENTS.no]);
  // A generic sentence the flow claims for an intent is not also out of scope.
  assert.ok(GENERIC_OUT_OF_SCOPE.includes('tell me a joke'));
  assert.ok(!data.outOfScope!.includes('tell me a joke'));
  assert.equal(data.outOfScope!.length, GENERIC_OUT_OF_SCOPE.length - 1);
});

test('a built-in example a flow lists under its own intent goes to that intent only', () => {
  const flow = flowFile('f', 1, ['order', 'sure']);
  const data = flowTrainingData(flow);
  assert.ok(data.intents['order']!.includes('sure'));
  assert.ok(!data.intents['yes']!.includes('sure'));
  // The trainer refuses an example under two intents, so this is what makes such a flow trainable.
  assert.doesNotThrow(() => train(data, { epochs: 1 }));
});

test('model versions follow the training data and options, not key order', () => {
  const v = modelVersion(DATA);
  assert.match(v, /^[0-9a-f]{16}$/);
  assert.equal(modelVersion({ outOfScope: DATA.outOfScope, intents: { ...DATA.intents } }), v);
  assert.notEqual(modelVersion({ ...DATA, outOfScope: ['tell me a joke'] }), v);
  assert.notEqual(modelVersion(DATA, { hidden: 64 }), v);
  assert.notEqual(
    modelVersion({ intents: { ...DATA.intents, order: [...DATA.intents.order, 'one large please'] } }),
    modelVersion({ intents: DATA.intents }),
  );
});

test('the cache trains a model once and serves it from disk afterwards', async (ctx) => {
  const root = await tempDir(ctx, 'switchboard-models-');
  const { trainer, jobs } = countingTrainer();
  const cache = new ModelCache({ dir: root, trainer });
  const first = await cache.ensure('pizza', DATA);
  assert.equal(first.trained, true);
  assert.equal(first.dir, join(root, 'pizza', first.version));
  const again = await new ModelCache({ dir: root, trainer }).ensure('pizza', DATA);
  assert.deepEqual(again, { ...first, trained: false });
  assert.equal(jobs.length, 1);
  // Two requests at once for a missing model train it once; nothing temporary is left behind.
  const other = { intents: { ...DATA.intents, cancel: ['cancel', 'never mind'] } };
  const both = await Promise.all([cache.ensure('pizza', other), cache.ensure('pizza', other)]);
  // Either may be the one that trains: each first checks the disk, and those checks finish in either order.
  assert.equal(both.filter((b) => b.trained).length, 1, 'trained once');
  assert.equal(jobs.length, 2);
  assert.deepEqual((await readdir(join(root, 'pizza'))).sort(), [first.version, both[0].version].sort());
  const model = await IntentModel.load(first.dir);
  ctx.after(() => model.release());
  assert.deepEqual(model.labels, ['hours', 'order']);
});

test('a failed training leaves no folder and says why with a typed error', async (ctx) => {
  const root = await tempDir(ctx, 'switchboard-models-');
  const cache = new ModelCache({
    dir: root,
    trainer: async (job) => {
      await writeFile(join(root, 'partial'), 'x');
      await writeModelDir(train(job.data), job.dir);
    },
  });
  await assert.rejects(
    cache.ensure('bad name/..', { intents: { only: ['one intent is not enough'] } }),
    (err) => isSwitchboardError(err, 'NLU_TRAINING_INVALID') && /at least 2 intents/.test(err.message),
  );
  // The name cannot reach outside the cache, and the temporary folder is gone.
  assert.deepEqual(await readdir(join(root, 'bad_name___')), []);
});

test('training in a worker thread writes a loadable model, and worker errors keep their type', async (ctx) => {
  const dir = join(await tempDir(ctx, 'switchboard-worker-'), 'model');
  await trainInWorker({ data: DATA, options: { epochs: 20, seed: 3 }, dir });
  const model = await IntentModel.load(dir);
  ctx.after(() => model.release());
  assert.deepEqual(model.labels, ['hours', 'order']);
  assert.equal((await model.classify('what are your hours')).intent, 'hours');

  await assert.rejects(
    trainInWorker({ data: { intents: { a: ['x'], b: ['x'] } }, options: {}, dir: `${dir}-2` }),
    (err) =>
      isSwitchboardError(err, 'NLU_TRAINING_INVALID') &&
      err.message.startsWith('Intent model training data or options are invalid: the same example'),
  );
  assert.equal(existsSync(`${dir}-2`), false);
});

/** A stand-in with IntentModel's release, counting releases. */
function fakeModel(): { model: IntentModel; releases: () => number } {
  let releases = 0;
  const model = {
    release: () => {
      releases++;
      return Promise.resolve();
    },
  } as unknown as IntentModel;
  return { model, releases: () => releases };
}

test('a shared model is released once retired and let go by its last holder', async () => {
  const { model, releases } = fakeModel();
  const shared = new SharedIntentModel(model, 'v1');
  const a = shared.retain();
  const b = shared.retain();
  a();
  a(); // letting go twice counts once
  assert.equal(shared.holders, 1);
  shared.retire();
  assert.equal(releases(), 0, 'a call still holds it');
  b();
  await shared.released;
  assert.equal(releases(), 1);
  assert.throws(() => shared.retain(), /already released/);

  const idle = fakeModel();
  const unheld = new SharedIntentModel(idle.model, 'v2');
  unheld.retire();
  assert.equal(unheld.isReleased, true, 'nobody held it: released at once');
  await unheld.released;
  assert.equal(idle.releases(), 1);
});

async function modelLibrary(ctx: TestContext, files: Record<string, FlowFile>, trainer?: Trainer) {
  const dir = await tempDir(ctx, 'switchboard-flows-');
  const root = await tempDir(ctx, 'switchboard-models-');
  for (const [name, flow] of Object.entries(files)) await writeFile(join(dir, name), JSON.stringify(flow));
  const { logger, records } = memoryLogger('debug');
  const counting = countingTrainer();
  const cache = new ModelCache({ dir: root, trainer: trainer ?? counting.trainer });
  const lib = new FlowLibrary({ dir, logger, settleMs: 30, models: new FlowModels({ cache, logger }) });
  await lib.load();
  lib.watch();
  ctx.after(() => lib.close());
  return { dir, lib, records, jobs: counting.jobs };
}

async function until(what: string, condition: () => boolean): Promise<void> {
  const end = Date.now() + 10_000;
  while (!condition()) {
    if (Date.now() > end) throw new Error(`timed out waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

test('an edited flow goes live with its new model; calls under way keep the old one', async (ctx) => {
  const t = await modelLibrary(ctx, {
    'shop.json': flowFile('shop', 1, ['i want to order', 'order please']),
  });
  const first = t.lib.models.get('shop');
  assert.ok(first);
  assert.equal(
    first.version,
    modelVersion(flowTrainingData(t.lib.flows.get('shop')!.flow), FLOW_TRAINING_OPTIONS),
  );
  const release = first.retain(); // a call under way

  // A change to the prompts only: same examples, same model object, nothing retrained.
  await writeFile(
    join(t.dir, 'shop.json'),
    JSON.stringify(flowFile('shop', 2, ['i want to order', 'order please'], 'Hi')),
  );
  await until('version 2 is live', () => t.lib.flows.get('shop')?.flow.version === 2);
  assert.equal(t.lib.models.get('shop'), first);
  assert.equal(t.jobs.length, 1);

  // New examples: a new model for new calls, published with the flow that needs it.
  await writeFile(
    join(t.dir, 'shop.json'),
    JSON.stringify(flowFile('shop', 3, ['i want to order', 'order please', 'can i get a pizza'])),
  );
  await until('version 3 is live', () => t.lib.flows.get('shop')?.flow.version === 3);
  const second = t.lib.models.get('shop');
  assert.ok(second && second !== first);
  assert.notEqual(second.version, first.version);
  assert.equal(first.isReleased, false, 'the call under way still holds the old model');
  assert.ok((await first.model.classify('when are you open')).confidence > 0);
  release();
  assert.equal(first.isReleased, true);
  await first.released;
  await assert.rejects(first.model.classify('when are you open'), (err) =>
    isSwitchboardError(err, 'NLU_INFERENCE_FAILED'),
  );
  const changed = t.records.find((r) => r.msg === 'flow reloaded for new calls' && r['version'] === 3);
  assert.equal(changed?.['modelVersion'], second.version);
});

test('a flow whose model cannot be trained still goes live, understanding exact examples only', async (ctx) => {
  const t = await modelLibrary(ctx, { 'shop.json': flowFile('shop', 1, ['order']) }, () =>
    Promise.reject(new Error('disk full')),
  );
  assert.equal(t.lib.flows.get('shop')?.flow.version, 1);
  assert.equal(t.lib.models.has('shop'), false);
  const logged = t.records.find(
    (r) => r.msg === 'intent model unavailable; the flow matches exact examples only',
  );
  assert.equal(logged?.['code'], 'NLU_TRAINING_FAILED');
  assert.equal(logged?.['flow'], 'shop');
});

test('removing a flow file retires its model', async (ctx) => {
  const t = await modelLibrary(ctx, { 'shop.json': flowFile('shop', 1, ['order']) });
  const model = t.lib.models.get('shop')!;
  await rm(join(t.dir, 'shop.json'));
  await until('the flow is gone', () => !t.lib.flows.has('shop'));
  assert.equal(t.lib.models.has('shop'), false);
  await model.released;
  assert.equal(model.isReleased, true);
});

test('a cached model damaged on disk is trained again, not served or given up on', async (ctx) => {
  const flow = flowFile('shop', 1, ['i want to order', 'order please']);
  const dir = await tempDir(ctx, 'switchboard-flows-');
  const root = await tempDir(ctx, 'switchboard-models-');
  await writeFile(join(dir, 'shop.json'), JSON.stringify(flow));
  const { trainer, jobs } = countingTrainer();
  const cache = new ModelCache({ dir: root, trainer });
  const cached = await cache.ensure('shop', flowTrainingData(flow), FLOW_TRAINING_OPTIONS);
  const onnx = join(cached.dir, 'model.onnx');
  await writeFile(onnx, (await readFile(onnx)).subarray(0, 100)); // truncated, as by a crash mid-copy

  const { logger, records } = memoryLogger('debug');
  const lib = new FlowLibrary({ dir, logger, models: new FlowModels({ cache, logger }) });
  await lib.load();
  ctx.after(() => lib.close());
  assert.equal(lib.models.get('shop')?.version, cached.version);
  assert.equal(jobs.length, 2);
  const warned = records.find((r) => r.msg === 'cached intent model is unreadable; training it again');
  assert.equal(warned?.['code'], 'NLU_MODEL_INVALID');
  const rebuilt = lib.models.get('shop')!.model;
  assert.ok(rebuilt.labels.includes('order'));
  assert.ok((await rebuilt.classify('order please')).confidence > 0);
});

test("a flow's own model folder is loaded beside its file, reused while unchanged, and swapped when the flow's use of it changes", async (ctx) => {
  const cacheDir = await tempDir(ctx, 'switchboard-folder-cache-');
  const cache = new ModelCache({ dir: cacheDir });
  const log = memoryLogger();
  const models = new FlowModels({ cache, logger: log.logger });
  const fixtures = new URL('../../fixtures/', import.meta.url).pathname;
  const pharmacy = JSON.parse(
    await readFile(new URL('../../../flows/pharmacy.json', import.meta.url), 'utf8'),
  ) as FlowFile;
  const flow: FlowFile = { ...pharmacy, model: { path: 'models/pharmacy-pytorch' } };

  const first = await models.prepare(flow, undefined, fixtures);
  assert.ok(first, JSON.stringify(log.records));
  ctx.after(() => first.retire());
  assert.match(first.version, /^onnx-[0-9a-f]{16}$/);
  assert.equal((await first.model.classify('could you refill my meds')).intent, 'refill');
  assert.equal(await models.prepare(flow, first, fixtures), first, 'the same folder and use: the same model');
  assert.deepEqual(await readdir(cacheDir), [], 'nothing is trained for a flow with its own model');

  const stricter = await models.prepare(
    { ...flow, model: { ...flow.model!, threshold: 0.99 } },
    first,
    fixtures,
  );
  assert.ok(stricter && stricter !== first);
  ctx.after(() => stricter.retire());
  assert.equal(stricter.model.threshold, 0.99);

  // A folder that is not there, or labels that match no intent: logged, and the flow matches exact examples.
  assert.equal(
    await models.prepare({ ...flow, model: { path: 'models/nowhere' } }, undefined, fixtures),
    null,
  );
  const mismatched = { ...flow, intents: { refill: pharmacy.intents!['refill']! } };
  assert.equal(await models.prepare(mismatched, undefined, fixtures), null);
  const refused = log.records.filter((r) => r.msg.startsWith("the flow's model folder cannot serve it"));
  assert.equal(refused.length, 2);
  assert.ok(refused.every((r) => r['code'] === 'NLU_MODEL_INVALID'));
});
